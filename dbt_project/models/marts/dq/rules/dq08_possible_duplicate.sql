-- DQ08: an invoice that looks like a second copy of another: the same
-- supplier, total, line amounts, cost centres and accounts under a similar
-- invoice number (Jaro-Winkler similarity at least similarity_min: a copy
-- registered again gets a number near the first) within window_days, and a
-- total the supplier does not bill regularly (at most recurring_invoices_max
-- postings of it: rent, subscriptions and per-unit services repeat their
-- amounts). The later of the two fires and names the earlier. Not for files
-- without dates.
with postings as (
    select * from {{ ref('int_dq_invoice_postings') }}
    where not posting_date_derived and total > 0
),

recurring as (
    select
        supplier_key,
        total,
        count(*) as postings_with_total
    from postings
    group by supplier_key, total
),

pairs as (
    select
        later.supplier_key,
        later.invoice_number,
        later.verification_key,
        later.posting_date,
        later.total,
        earlier.invoice_number as other_invoice,
        earlier.posting_date as other_date,
        date_diff('day', earlier.posting_date, later.posting_date) as days,
        jaro_winkler_similarity(later.invoice_number, earlier.invoice_number) as similarity,
        row_number() over (
            partition by later.supplier_key, later.invoice_number, later.verification_key
            order by earlier.posting_date desc, earlier.invoice_number asc
        ) as pair_rank
    from postings as later
    inner join recurring
        on later.supplier_key = recurring.supplier_key and later.total = recurring.total
    inner join postings as earlier
        on
            later.supplier_key = earlier.supplier_key
            and later.total = earlier.total
            and later.invoice_number <> earlier.invoice_number
            and later.cost_centres = earlier.cost_centres
            and later.accounts = earlier.accounts
            and later.line_amounts = earlier.line_amounts
            and jaro_winkler_similarity(later.invoice_number, earlier.invoice_number)
            >= {{ dq_threshold('DQ08', 'similarity_min') }}
            and (
                later.posting_date > earlier.posting_date
                or (
                    later.posting_date = earlier.posting_date
                    and later.invoice_number > earlier.invoice_number
                )
            )
    where
        recurring.postings_with_total <= {{ dq_threshold('DQ08', 'recurring_invoices_max') }}
        and later.posting_date <= earlier.posting_date
        + cast({{ dq_threshold('DQ08', 'window_days') }} as integer)
),

lines as (
    select
        spend.ledger_line_id,
        spend.amount,
        pairs.*
    from {{ ref('fct_spend') }} as spend
    inner join pairs
        on
            spend.supplier_key = pairs.supplier_key
            and spend.invoice_number = pairs.invoice_number
            and pairs.verification_key = coalesce(spend.verification_id, '')
            and spend.posting_date = pairs.posting_date
            and pairs.pair_rank = 1
)

select
{{ dq_rule_output('DQ08',
    '0.5 + 0.3 * similarity + 0.2 * (1 - days / ' ~ dq_threshold('DQ08', 'window_days') ~ ')',
    'amount',
    "'invoice_number', invoice_number, 'invoice_total', cast(total as varchar),
     'other_invoice', other_invoice, 'other_date', cast(other_date as varchar),
     'days', cast(days as varchar)") }}
from lines
