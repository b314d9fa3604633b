-- DQ16: the supplier's first invoice in the ledger comes from a company
-- registered shortly before it: the registration date (Bolagsverket's, else
-- SCB's) is at most max_days days before the invoice's posting date, or after
-- it (invoiced before it was registered). Info: a new supplier is no error,
-- but a company set up just before its first invoice is a known pattern of
-- fraud and of purchases outside procurement. Fires on every line of the
-- first invoice (the supplier's invoice with the earliest posting date, ties
-- by invoice). Score 0.6 at or before the registration day, falling to 0.3
-- at max_days. Never fires on a sole trader (no registration date is used for
-- a person) nor without register files. The ledger's first month holds every
-- old supplier's first line too: only a registration inside the window fires.
with register as (
    select * from {{ ref('int_supplier_register_combined') }}
    where registration_date is not null
),

first_invoices as (
    select
        supplier_key,
        invoice_key,
        posting_date
    from (
        select
            supplier_key,
            invoice_key,
            posting_date,
            row_number() over (
                partition by supplier_key
                order by posting_date asc, invoice_key asc
            ) as invoice_rank
        from {{ ref('fct_spend') }}
        where supplier_key is not null
    )
    where invoice_rank = 1
),

lines as (
    select
        spend.ledger_line_id,
        spend.amount,
        first_invoices.posting_date as first_date,
        register.registration_date,
        register.registration_date_source,
        first_invoices.posting_date - register.registration_date as days_registered
    from {{ ref('fct_spend') }} as spend
    inner join first_invoices
        on
            spend.supplier_key = first_invoices.supplier_key
            and spend.invoice_key = first_invoices.invoice_key
    inner join register on spend.supplier_key = register.supplier_key
)

select
{{ dq_rule_output('DQ16',
    '0.6 - 0.3 * greatest(0, days_registered) / ' ~ dq_threshold('DQ16', 'max_days'), 'amount',
    "'registration_date', cast(registration_date as varchar),
     'registered_in', case registration_date_source when 'scb' then 'SCB' else 'Bolagsverket' end,
     'first_date', cast(first_date as varchar),
     'timing_sv', case when days_registered >= 0
         then cast(days_registered as varchar) || ' dagar före'
         else cast(-days_registered as varchar) || ' dagar efter' end,
     'timing_en', case when days_registered >= 0
         then cast(days_registered as varchar) || ' days before'
         else cast(-days_registered as varchar) || ' days after' end") }}
from lines
where days_registered <= {{ dq_threshold('DQ16', 'max_days') }}
