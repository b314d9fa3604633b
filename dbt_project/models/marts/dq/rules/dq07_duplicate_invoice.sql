-- DQ07: a supplier invoice booked again: a later posting (another voucher or
-- day) of the same supplier and invoice number that repeats an earlier
-- posting's total or some of its line amounts, when the earlier postings
-- already booked at least this posting's total (a booking, its reversal and a
-- rebooking are not duplicates; an invoice split over two vouchers into
-- different parts is not either). The later posting's repeated lines fire,
-- all its lines when it repeats a whole earlier posting.
with postings as (
    select
        *,
        row_number() over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key
        ) as posting_rank,
        coalesce(sum(total) over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key
            rows between unbounded preceding and 1 preceding
        ), 0) as booked_before,
        first_value(verification_id) over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key
        ) as first_voucher,
        first_value(posting_date) over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key
        ) as first_date,
        first_value(line_amounts) over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key
        ) as first_line_amounts
    from {{ ref('int_dq_invoice_postings') }}
),

invoice_lines as (
    select
        spend.ledger_line_id,
        spend.supplier_key,
        spend.invoice_number,
        spend.amount,
        postings.posting_rank,
        postings.total,
        postings.booked_before,
        postings.first_voucher,
        postings.first_date,
        postings.line_amounts = postings.first_line_amounts as same_lines,
        exists(
            select 1 from postings as earlier
            where
                earlier.supplier_key = postings.supplier_key
                and earlier.invoice_number = postings.invoice_number
                and earlier.posting_rank < postings.posting_rank
                and earlier.total = postings.total
        ) as repeats_a_total
    from {{ ref('fct_spend') }} as spend
    inner join postings
        on
            spend.supplier_key = postings.supplier_key
            and spend.invoice_number = postings.invoice_number
            and postings.verification_key = coalesce(spend.verification_id, '')
            and (spend.posting_date_derived or spend.posting_date = postings.posting_date)
    where spend.supplier_key in (
        select supplier_key from postings
        where posting_rank > 1
    )
),

lines as (
    select later.*
    from invoice_lines as later
    where
        later.posting_rank > 1
        and later.total <> 0
        and sign(later.booked_before) = sign(later.total)
        and abs(later.booked_before) >= abs(later.total)
        and (later.repeats_a_total or exists (
            select 1 from invoice_lines as earlier
            where
                earlier.supplier_key = later.supplier_key
                and earlier.invoice_number = later.invoice_number
                and earlier.posting_rank < later.posting_rank
                and earlier.amount = later.amount
        ))
)

select
{{ dq_rule_output('DQ07', 'case when same_lines then 1.0 else 0.9 end', 'amount',
    "'invoice_number', invoice_number, 'invoice_total', cast(total as varchar),
     'first_voucher', coalesce(first_voucher, '-'), 'first_date', cast(first_date as varchar)") }}
from lines
