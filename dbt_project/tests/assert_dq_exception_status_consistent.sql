{#- dq_exception_status: the dates agree with the status, and every decided
    count of dq_rule_precision_judged adds up. Returns the rows that do not. -#}
select
    exception_id,
    status,
    'resolved_on / days_to_resolution' as problem
from {{ ref('dq_exception_status') }}
where
    (status = 'resolved') <> (resolved_on is not null)
    or (status = 'resolved') <> (days_to_resolution is not null)
    or days_to_resolution < 0
union all
select
    exception_id,
    status,
    'listed / status'
from {{ ref('dq_exception_status') }}
where
    (status in ('new', 'open', 'confirmed') and not is_listed)
    or (status in ('new', 'open') and decision is not null)
    or (status = 'confirmed' and decision <> 'confirmed')
    or (status = 'dismissed' and decision <> 'dismissed')
union all
select
    rule_id,
    null,
    'confirmed + corrected + dismissed <> decided'
from {{ ref('dq_rule_precision_judged') }}
where confirmed + corrected + dismissed <> decided
