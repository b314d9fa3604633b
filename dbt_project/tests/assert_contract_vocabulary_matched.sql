{#- Fails the build (and so keeps the last published marts) when more than
    var spendkoll_contract_unmatched_max_share (default 0.05) of the contract
    register's rows carry a category or procured-by value that matches nothing
    (dq_contract_exceptions lists them). Below the share the rows are reported
    and the build goes on. -#}
{{ config(severity='error') }}
with vocabulary as (
    select * from {{ ref('int_contract_vocabulary') }}
),

counts as (
    select
        count(*) as contract_rows,
        count(*) filter (where not category_matched or not procured_by_matched)
            as unmatched_rows
    from vocabulary
)

select
    contract_rows,
    unmatched_rows,
    {{ var('spendkoll_contract_unmatched_max_share', 0.05) }} as max_share
from counts
where unmatched_rows > {{ var('spendkoll_contract_unmatched_max_share', 0.05) }} * contract_rows
