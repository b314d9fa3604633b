-- DQ04: an investment-sized addressable line from a supplier that also
-- delivers investments (supplier_investment_share_min of its lines).
with lines as (
    select
        spend.ledger_line_id,
        spend.amount,
        spend.account,
        usage.investment_share,
        usage.top_investment_account,
        usage.top_investment_category_id
    from {{ ref('fct_spend') }} as spend
    {{ dq_join_supplier_usage() }}
    where spend.spend_class = 'addressable'
)

select
{{ dq_rule_output('DQ04', '0.5 + 0.5 * investment_share', 'amount',
    "'amount', cast(amount as varchar), 'account', account,
     'investment_pct', cast(round(100 * investment_share) as varchar)",
    'top_investment_account', 'top_investment_category_id') }}
from lines
where
    amount >= {{ dq_threshold('DQ04', 'investment_size_sek') }}
    and investment_share >= {{ dq_threshold('DQ04', 'supplier_investment_share_min') }}
