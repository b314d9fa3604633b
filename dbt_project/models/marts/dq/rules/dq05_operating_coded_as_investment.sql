-- DQ05: a small line (under investment_min_sek, half a price base amount) on
-- an investment account from a supplier with a history (min_lines) that is
-- almost only operating costs (supplier_investment_share_max).
with lines as (
    select
        spend.ledger_line_id,
        spend.amount,
        spend.account,
        usage.supplier_lines,
        usage.investment_share,
        usage.top_operating_account,
        usage.top_operating_category_id
    from {{ ref('fct_spend') }} as spend
    {{ dq_join_supplier_usage() }}
    where spend.spend_class = 'investment'
)

select
{{ dq_rule_output('DQ05', '1 - investment_share', 'amount',
    "'amount', cast(amount as varchar), 'account', account,
     'investment_min', cast(" ~ dq_threshold('DQ05', 'investment_min_sek') ~ " as bigint),
     'operating_pct', cast(round(100 * (1 - investment_share)) as varchar)",
    'top_operating_account', 'top_operating_category_id') }}
from lines
where
    abs(amount) < {{ dq_threshold('DQ05', 'investment_min_sek') }}
    and supplier_lines >= {{ dq_threshold('DQ05', 'min_lines') }}
    and investment_share <= {{ dq_threshold('DQ05', 'supplier_investment_share_max') }}
