{#- Invoices as booked: one row per supplier invoice and voucher (a posting),
    the unit the duplicate rules (DQ07, DQ08) compare. Lines of one invoice
    on one voucher are one posting, never duplicates of each other. A file
    without vouchers or dates (derived posting dates) gives one posting per
    invoice.
    The rules only ask whether two postings have the same cost centres, the
    same accounts and the same line amounts, so those are order-independent
    digests (a sum of hashes: of the distinct cost centres and accounts, of
    every line amount), plain aggregates that DuckDB spills to disk at 10
    million lines, where ordered string_agg ran out of memory.
    Incremental (delete+insert on the invoice): a posting depends on its
    invoice's lines only, so a night recomputes the invoices with a line
    fct_spend built in this build (new, rebuilt or taken over) and drops those
    with no line left. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['supplier_key', 'invoice_number'],
    on_schema_change='fail',
    post_hook="{{ spendkoll_delete_postings_without_lines() }}",
) }}
with lines as (
    select
        supplier_key,
        invoice_number,
        coalesce(verification_id, '') as verification_key,
        case when posting_date_derived then null else posting_date end as date_key,
        verification_id,
        posting_date,
        posting_date_derived,
        coalesce(cost_centre, '') as cost_centre,
        account,
        amount
    from {{ ref('fct_spend') }}
    where
        supplier_key is not null and invoice_number is not null
        {%- if is_incremental() %}
            and (supplier_key, invoice_number) in (
                select
                    built.supplier_key,
                    built.invoice_number
                from {{ ref('fct_spend') }} as built
                where built.built_at = {{ spendkoll_built_at() }}
            )
        {%- endif %}
),

postings as (
    select
        supplier_key,
        invoice_number,
        verification_key,
        date_key,
        min(verification_id) as verification_id,
        min(posting_date) as posting_date,
        bool_and(posting_date_derived) as posting_date_derived,
        count(*) as posting_lines,
        sum(amount) as total,
        sum(hash(amount)) as line_amounts
    from lines
    group by supplier_key, invoice_number, verification_key, date_key
),

-- the distinct cost centres and accounts of each posting, then their digest
cost_centres as (
    select
        supplier_key,
        invoice_number,
        verification_key,
        date_key,
        sum(hash(cost_centre)) as cost_centres
    from (
        select distinct
            supplier_key,
            invoice_number,
            verification_key,
            date_key,
            cost_centre
        from lines
    ) as distinct_cost_centres
    group by supplier_key, invoice_number, verification_key, date_key
),

accounts as (
    select
        supplier_key,
        invoice_number,
        verification_key,
        date_key,
        sum(hash(account)) as accounts
    from (
        select distinct
            supplier_key,
            invoice_number,
            verification_key,
            date_key,
            account
        from lines
    ) as distinct_accounts
    group by supplier_key, invoice_number, verification_key, date_key
),

final as (
    select
        postings.supplier_key,
        postings.invoice_number,
        postings.verification_key,
        postings.verification_id,
        postings.posting_date,
        postings.posting_date_derived,
        postings.posting_lines,
        postings.total,
        cost_centres.cost_centres,
        accounts.accounts,
        postings.line_amounts
    from postings
    inner join cost_centres
        on
            postings.supplier_key = cost_centres.supplier_key
            and postings.invoice_number = cost_centres.invoice_number
            and postings.verification_key = cost_centres.verification_key
            and postings.date_key is not distinct from cost_centres.date_key
    inner join accounts
        on
            postings.supplier_key = accounts.supplier_key
            and postings.invoice_number = accounts.invoice_number
            and postings.verification_key = accounts.verification_key
            and postings.date_key is not distinct from accounts.date_key
)

select * from final
