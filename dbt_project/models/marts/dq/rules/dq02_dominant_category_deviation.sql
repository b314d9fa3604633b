-- DQ02: a one-off coding against the supplier's habit. Fires when
--   * the supplier has a history (min_lines lines) with a dominant category
--     (at least dominant_share_min of its lines);
--   * the line is in another category, one that holds at most
--     line_share_max of the supplier's lines (or a single line);
--   * on an account the supplier uses at most account_share_max of its lines
--     (or once): not a second line of business;
--   * and suppliers of the same dominant category seldom sell in the line's
--     category (at most category_affinity_max of them have a line in it):
--     a food wholesaler's line on consumables is common, on consultants not.
with usage as (
    select * from {{ ref('int_dq_supplier_usage') }}
),

profiled_suppliers as (
    select distinct
        supplier_key,
        dominant_category_id
    from usage
    where supplier_lines >= {{ dq_threshold('DQ02', 'min_lines') }}
),

peers as (
    select
        dominant_category_id,
        count(*) as suppliers
    from profiled_suppliers
    group by dominant_category_id
),

peer_categories as (
    select
        profiled_suppliers.dominant_category_id,
        usage.category_id,
        count(distinct usage.supplier_key) as suppliers
    from usage
    inner join profiled_suppliers on usage.supplier_key = profiled_suppliers.supplier_key
    group by profiled_suppliers.dominant_category_id, usage.category_id
),

lines as (
    select
        spend.ledger_line_id,
        spend.amount,
        spend.account,
        usage.supplier_lines,
        usage.dominant_share,
        usage.dominant_category_id,
        usage.dominant_account,
        usage.category_lines,
        usage.account_lines,
        1.0 * coalesce(peer_categories.suppliers, 0) / peers.suppliers as affinity,
        own.level3 as own_category,
        dom.level3 as dominant_category
    from {{ ref('fct_spend') }} as spend
    {{ dq_join_supplier_usage() }}
    inner join peers on peers.dominant_category_id = usage.dominant_category_id
    left join peer_categories
        on
            peer_categories.dominant_category_id = usage.dominant_category_id
            and peer_categories.category_id = spend.category_id
    inner join {{ ref('category_tree') }} as own on own.category_id = spend.category_id
    inner join {{ ref('category_tree') }} as dom on dom.category_id = usage.dominant_category_id
    where spend.category_id <> usage.dominant_category_id
)

select
{{ dq_rule_output('DQ02',
    'dominant_share * (1 - 1.0 * category_lines / supplier_lines) * (1 - affinity)', 'amount',
    "'supplier_lines', cast(supplier_lines as varchar),
     'dominant_pct', cast(round(100 * dominant_share) as varchar),
     'dominant_category', dominant_category, 'account', account,
     'account_lines', cast(account_lines as varchar),
     'own_category', own_category,
     'affinity_pct', cast(round(100 * affinity) as varchar)",
    'dominant_account', 'dominant_category_id') }}
from lines
where
    supplier_lines >= {{ dq_threshold('DQ02', 'min_lines') }}
    and dominant_share >= {{ dq_threshold('DQ02', 'dominant_share_min') }}
    and category_lines <= greatest(1, {{ dq_threshold('DQ02', 'line_share_max') }} * supplier_lines)
    and account_lines
    <= greatest(1, {{ dq_threshold('DQ02', 'account_share_max') }} * supplier_lines)
    and affinity <= {{ dq_threshold('DQ02', 'category_affinity_max') }}
