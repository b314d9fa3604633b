{#- One row per loaded ledger batch: its number of lines and amount. The
    snapshot ledger_batch_history keeps every version, so the batches a
    delivery added, replaced or removed are read from a node of the graph
    (int_spend_build_scope), not by comparing with fct_spend. -#}
{{ config(materialized='view') }}
select
    lines.batch_id,
    count(*) as lines,
    sum(lines.amount) as amount
from {{ ref('stg_ledger__lines') }} as lines
group by lines.batch_id
