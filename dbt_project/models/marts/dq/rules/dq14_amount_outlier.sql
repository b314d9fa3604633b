-- DQ14: an amount far above the norm: robust z (log amount minus the median
-- log amount, over 1.4826 x the median absolute deviation) of at least
-- robust_z_min against the supplier's own lines when the supplier has
-- min_history lines, else against the account's lines when the account has
-- account_min_history; only for lines of at least min_amount_sek on operating
-- (not investment) accounts. Catches an investment-sized purchase coded as
-- operating cost from an ordinary supplier, and a misplaced decimal sign.
with lines as (
    select
        ledger_line_id,
        supplier_key,
        account,
        amount,
        ln(amount) as log_amount
    from {{ ref('fct_spend') }}
    where amount > 0 and spend_class <> 'investment'
),

by_supplier as (
    select
        supplier_key,
        count(*) as n,
        median(log_amount) as med,
        -- a floor on the spread: a supplier billing one price has MAD 0
        greatest(1.4826 * mad(log_amount), 0.25) as spread
    from lines
    where supplier_key is not null
    group by supplier_key
),

by_account as (
    select
        account,
        count(*) as n,
        median(log_amount) as med,
        greatest(1.4826 * mad(log_amount), 0.25) as spread
    from lines
    group by account
),

scored as (
    select
        lines.ledger_line_id,
        lines.amount,
        case
            when by_supplier.n >= {{ dq_threshold('DQ14', 'min_history') }}
                then 'supplier'
            else 'account'
        end as basis,
        case
            when by_supplier.n >= {{ dq_threshold('DQ14', 'min_history') }}
                then (lines.log_amount - by_supplier.med) / by_supplier.spread
            when by_account.n >= {{ dq_threshold('DQ14', 'account_min_history') }}
                then (lines.log_amount - by_account.med) / by_account.spread
        end as robust_z,
        case
            when by_supplier.n >= {{ dq_threshold('DQ14', 'min_history') }}
                then exp(by_supplier.med)
            else exp(by_account.med)
        end as median_amount
    from lines
    left join by_supplier on lines.supplier_key = by_supplier.supplier_key
    left join by_account on lines.account = by_account.account
    where lines.amount >= {{ dq_threshold('DQ14', 'min_amount_sek') }}
)

select
{{ dq_rule_output('DQ14',
    'robust_z / (2 * ' ~ dq_threshold('DQ14', 'robust_z_min') ~ ')', 'amount',
    "'amount', cast(amount as varchar),
     'basis_sv', case when basis = 'supplier' then 'för leverantörens rader' else 'för kontots rader' end,
     'basis_en', case when basis = 'supplier' then 'the supplier''s lines''' else 'the account''s lines''' end,
     'median', cast(round(median_amount, 0) as varchar),
     'robust_z', cast(round(robust_z, 1) as varchar)") }}
from scored
where robust_z >= {{ dq_threshold('DQ14', 'robust_z_min') }}
