{#- One row per supplier in the contract register: a digest of all its contract
    rows as the lines are matched against them (int_contract_categories). The
    snapshot contract_register_history keeps every version, so the suppliers
    whose contracts changed in a delivery are read from a node of the graph
    (int_spend_build_scope), not from a table saved beside it. -#}
{{ config(materialized='view') }}
select
    contracts.supplier_key,
    md5(
        string_agg(cast(contracts as varchar), '#' order by cast(contracts as varchar))
    ) as contracts_digest
from {{ ref('int_contract_categories') }} as contracts
where contracts.supplier_key is not null
group by contracts.supplier_key
