{#- What an incremental build of dq_invoice_exceptions recomputes, by the kind
    of evidence its rules look at (docs: _build__docs.md):
      * one line, or a line and its supplier's contracts (DQ01, DQ03, DQ06,
        DQ09-DQ13): the lines fct_spend rebuilt (spendkoll_in_build_scope);
      * kind 'supplier': the supplier's profile over all its lines (DQ02,
        DQ04, DQ05): every supplier with a line added, rebuilt or removed;
      * kind 'recompute_invoice': the invoices of a supplier near in time
        (DQ07 the same invoice booked twice, DQ08 the same amount within
        spendkoll_dq_duplicate_days): every touched invoice, and every
        invoice of a touched supplier dated from its first touched day to
        duplicate_days after its last, which a change may have made or
        unmade a duplicate of an earlier one;
      * kind 'read_invoice': the invoices those rules must read to decide:
        the above and every invoice with a line duplicate_days around them.
    Built after fct_spend, from int_spend_changes. -#}
{%- set days = var('spendkoll_dq_duplicate_days', 7) -%}
with spend as (
    select supplier_key, invoice_number, posting_date, posting_date_derived
    from {{ ref('fct_spend') }}
    where supplier_key is not null and invoice_number is not null
),

suppliers as (
    select supplier_key, first_date, last_date
    from {{ ref('int_spend_changes') }}
    where kind = 'supplier'
),

touched_invoices as (
    select supplier_key, invoice_number
    from {{ ref('int_spend_changes') }}
    where kind = 'invoice'
),

-- a touched invoice may have older lines than the touched ones
touched_first_dates as (
    select spend.supplier_key, min(spend.posting_date) as first_date
    from spend
    inner join touched_invoices
        on touched_invoices.supplier_key = spend.supplier_key
        and touched_invoices.invoice_number = spend.invoice_number
    group by spend.supplier_key
),

windows as (
    select
        suppliers.supplier_key,
        least(suppliers.first_date, coalesce(touched_first_dates.first_date, suppliers.first_date))
            as first_date,
        suppliers.last_date
    from suppliers
    left join touched_first_dates
        on touched_first_dates.supplier_key = suppliers.supplier_key
),

nearby_invoices as (
    select distinct spend.supplier_key, spend.invoice_number
    from spend
    inner join windows
        on windows.supplier_key = spend.supplier_key
    where spend.posting_date >= {{ dbt.dateadd('day', -days, 'windows.first_date') }}
      and spend.posting_date <= {{ dbt.dateadd('day', days, 'windows.last_date') }}
),

-- an invoice's date for DQ08: its first line with a real posting date
nearby_invoice_dates as (
    select spend.supplier_key, spend.invoice_number, min(spend.posting_date) as invoice_date
    from spend
    inner join nearby_invoices
        on nearby_invoices.supplier_key = spend.supplier_key
        and nearby_invoices.invoice_number = spend.invoice_number
    where not spend.posting_date_derived
    group by spend.supplier_key, spend.invoice_number
),

recompute as (
    select nearby_invoice_dates.supplier_key, nearby_invoice_dates.invoice_number
    from nearby_invoice_dates
    inner join windows
        on windows.supplier_key = nearby_invoice_dates.supplier_key
    where nearby_invoice_dates.invoice_date >= windows.first_date
      and nearby_invoice_dates.invoice_date
          <= {{ dbt.dateadd('day', days, 'windows.last_date') }}
    union
    select supplier_key, invoice_number from touched_invoices
),

read as (
    select supplier_key, invoice_number from nearby_invoices
    union
    select supplier_key, invoice_number from touched_invoices
),

final as (
    select 'supplier' as kind, supplier_key, cast(null as varchar) as invoice_number
    from suppliers
    union all
    select 'recompute_invoice', supplier_key, invoice_number from recompute
    union all
    select 'read_invoice', supplier_key, invoice_number from read
)

select * from final
