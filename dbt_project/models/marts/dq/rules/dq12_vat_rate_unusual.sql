-- DQ12: VAT present but at none of the Swedish rates 0, 6, 12, 25 % of the
-- amount (tolerance: tolerance_sek or tolerance_share of the amount). The
-- amount at stake is the distance to the nearest rate.
with lines as (
    select
        ledger_line_id,
        amount,
        vat,
        least(
            abs(vat), abs(vat - 0.06 * amount), abs(vat - 0.12 * amount),
            abs(vat - 0.25 * amount)
        ) as off_by
    from {{ ref('fct_spend') }}
    where vat is not null and amount <> 0
)

select
{{ dq_rule_output('DQ12', '0.6 + 0.4 * least(1, off_by / abs(amount) / 0.05)', 'off_by',
    "'vat', cast(vat as varchar), 'amount', cast(amount as varchar),
     'vat_pct', cast(round(100.0 * vat / amount, 1) as varchar)") }}
from lines
where off_by > greatest(
    {{ dq_threshold('DQ12', 'tolerance_sek') }},
    {{ dq_threshold('DQ12', 'tolerance_share') }} * abs(amount)
)
