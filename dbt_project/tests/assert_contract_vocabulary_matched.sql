{#- Fails the build (so the marts are not published and the last published
    ones stay) when more than var spendkoll_contract_unmatched_max_share
    (default 0.05) of the contract register's rows carry a category or
    procured-by value that matches nothing. Below the share the rows are only
    reported. Reads dq_contract_exceptions, so the controller's list is built
    before the test runs, also when it fails. -#}
{{ config(severity='error') }}
{%- set max_share = var('spendkoll_contract_unmatched_max_share') -%}
with exceptions as (
    select * from {{ ref('dq_contract_exceptions') }}
),

counts as (
    select
        (select count(*) from {{ source('raw', 'contract') }}) as contract_rows,
        -- distinct (batch_id, line) is a row value, not a function call
        (select count(distinct (batch_id, line)) from exceptions) as unmatched_rows  -- noqa: LT01,LT06
)

select
    contract_rows,
    unmatched_rows,
    {{ max_share }} as max_share
from counts
where unmatched_rows > {{ max_share }} * contract_rows
