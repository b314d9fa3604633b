-- DQ13: an addressable line without an active contract from a supplier whose
-- contract ended before the posting date (info).
with ended as (
    select
        spend.ledger_line_id,
        min(spend.amount) as amount,
        max(contracts.end_date) as ended_on,
        max(contracts.contract_id) as contract_id
    from {{ ref('fct_spend') }} as spend
    inner join {{ ref('int_contract_categories') }} as contracts
        on
            spend.supplier_key = contracts.supplier_key
            and spend.posting_date > contracts.end_date
    where
        spend.spend_class = 'addressable'
        and not spend.has_active_contract
    group by spend.ledger_line_id
)

select
{{ dq_rule_output('DQ13', '0.4', 'amount',
    "'contract_id', contract_id, 'ended_on', cast(ended_on as varchar)") }}
from ended
