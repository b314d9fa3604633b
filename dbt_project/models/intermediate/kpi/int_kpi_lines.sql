{#- fct_spend with each line's invoice: the supplier's invoice number (else the
    voucher, else the line itself), its net amount over all its lines, and
    whether that net is a credit (<= 0). Ephemeral: the KPI models inline it. -#}
{{ config(materialized='ephemeral') }}

with spend as (
    select * from {{ ref('fct_spend') }}
),

keyed as (
    select
        spend.*,
        coalesce(spend.supplier_key, '?') || '|' || coalesce(
            'f:' || spend.invoice_number,
            'v:' || spend.verification_id,
            'l:' || spend.ledger_line_id
        ) as invoice_key
    from spend
),

invoices as (
    select
        invoice_key,
        sum(amount) as invoice_amount
    from keyed
    group by invoice_key
),

final as (
    select
        keyed.*,
        invoices.invoice_amount,
        invoices.invoice_amount <= 0 as is_credit_note
    from keyed
    inner join invoices
        on invoices.invoice_key = keyed.invoice_key
)

select * from final
