-- DQ01: the account matches no mapping rule; the line lands in Unclassified.
select {{ dq_rule_output('DQ01', '1.0', 'amount',
    "'account', account, 'rule_set', '" ~ var('spendkoll_rule_set') ~ "'") }}
from {{ ref('fct_spend') }}
where classified_by = 'no_rule'
