-- DQ02: a supplier with a clear usual category (min_lines lines, the dominant
-- category at least dominant_share_min of them) has this line in a category
-- holding under line_share_max of its lines, on an account it uses at most
-- account_uses_max times: a one-off coding, not a second line of business.
with lines as (
    select spend.ledger_line_id, spend.amount, spend.account,
        usage.supplier_lines, usage.dominant_share, usage.dominant_category_id,
        usage.dominant_account, usage.category_lines, usage.account_lines,
        own.level3 as own_category, dom.level3 as dominant_category
    from {{ ref('fct_spend') }} as spend
    inner join {{ ref('int_dq_supplier_usage') }} as usage
        on usage.supplier_key = spend.supplier_key
        and usage.account = spend.account
        and usage.category_id = spend.category_id
        and usage.spend_class = spend.spend_class
    inner join {{ ref('category_tree') }} as own on own.category_id = spend.category_id
    inner join {{ ref('category_tree') }} as dom on dom.category_id = usage.dominant_category_id
    where spend.category_id <> usage.dominant_category_id
)

select {{ dq_rule_output('DQ02',
    'dominant_share * (1 - 1.0 * category_lines / supplier_lines)', 'amount',
    "'supplier_lines', cast(supplier_lines as varchar),
     'dominant_pct', cast(round(100 * dominant_share) as varchar),
     'dominant_category', dominant_category, 'account', account,
     'own_category', own_category",
    'dominant_account', 'dominant_category_id') }}
from lines
where supplier_lines >= {{ dq_threshold('DQ02', 'min_lines') }}
  and dominant_share >= {{ dq_threshold('DQ02', 'dominant_share_min') }}
  and 1.0 * category_lines / supplier_lines < {{ dq_threshold('DQ02', 'line_share_max') }}
  and account_lines <= {{ dq_threshold('DQ02', 'account_uses_max') }}
