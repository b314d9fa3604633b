{#- Invoices as booked: one row per supplier invoice and voucher (a posting),
    the unit the duplicate rules (DQ07, DQ08) compare. Lines of one invoice
    on one voucher are one posting, never duplicates of each other. A file
    without vouchers or dates (derived posting dates) gives one posting per
    invoice. -#}
with lines as (
    select
        ledger_line_id,
        supplier_key,
        invoice_number,
        verification_id,
        posting_date,
        posting_date_derived,
        cost_centre,
        account,
        amount
    from {{ ref('fct_spend') }}
    where supplier_key is not null and invoice_number is not null
),

final as (
    select
        supplier_key,
        invoice_number,
        coalesce(verification_id, '') as verification_key,
        min(verification_id) as verification_id,
        min(posting_date) as posting_date,
        bool_and(posting_date_derived) as posting_date_derived,
        count(*) as posting_lines,
        sum(amount) as total,
        string_agg(distinct coalesce(cost_centre, ''), '|' order by coalesce(cost_centre, ''))
            as cost_centres,
        string_agg(distinct account, '|' order by account) as accounts,
        string_agg(cast(amount as varchar), '|' order by amount) as line_amounts
    from lines
    group by
        supplier_key, invoice_number, coalesce(verification_id, ''),
        case when posting_date_derived then null else posting_date end
)

select * from final
