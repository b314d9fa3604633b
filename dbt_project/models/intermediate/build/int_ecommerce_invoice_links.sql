{#- The supplier invoices e-commerce orders name (an order paid by that invoice
    makes its lines e-commerce spend). The snapshot
    ecommerce_invoice_link_history records when a link appears or goes, so the
    invoices whose lines must be rebuilt are read from the graph. -#}
{{ config(materialized='view') }}
select distinct
    orders.supplier_key || '|' || orders.invoice_number as link_key,
    orders.supplier_key,
    orders.invoice_number
from {{ ref('stg_ecommerce__orders') }} as orders
where orders.supplier_key is not null and orders.invoice_number is not null
