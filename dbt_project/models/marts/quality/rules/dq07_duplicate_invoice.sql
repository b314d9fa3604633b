-- DQ07: the same supplier invoice (number and total) booked again on another
-- voucher or day, when the earlier postings already booked it in full (a
-- booking, its reversal and a rebooking are not duplicates). The later
-- posting's lines fire.
with postings as (
    select *,
        row_number() over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key) as posting_rank,
        coalesce(sum(total) over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key
            rows between unbounded preceding and 1 preceding), 0) as booked_before,
        first_value(verification_id) over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key) as first_voucher,
        first_value(posting_date) over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key) as first_date,
        first_value(line_amounts) over (
            partition by supplier_key, invoice_number
            order by posting_date, verification_key) as first_line_amounts
    from {{ ref('int_dq_invoice_postings') }}
),

duplicates as (
    select * from postings
    where posting_rank > 1 and total <> 0 and booked_before = total
),

lines as (
    select spend.ledger_line_id, spend.amount, duplicates.invoice_number, duplicates.total,
        duplicates.first_voucher, duplicates.first_date,
        duplicates.line_amounts = duplicates.first_line_amounts as same_lines
    from {{ ref('fct_spend') }} as spend
    inner join duplicates
        on duplicates.supplier_key = spend.supplier_key
        and duplicates.invoice_number = spend.invoice_number
        and duplicates.verification_key = coalesce(spend.verification_id, '')
        and (spend.posting_date_derived or duplicates.posting_date = spend.posting_date)
)

select {{ dq_rule_output('DQ07', 'case when same_lines then 1.0 else 0.9 end', 'amount',
    "'invoice_number', invoice_number, 'invoice_total', cast(total as varchar),
     'first_voucher', coalesce(first_voucher, '-'), 'first_date', cast(first_date as varchar)") }}
from lines
