-- DQ03: the supplier has an active contract whose category does not cover the
-- line's (info: often a mis-coding, sometimes a purchase outside the contract).
with matched as (
    select
        contract_id,
        supplier_key,
        min(category_id) as category_id
    from {{ ref('int_contract_categories') }}
    where category_id is not null
    group by contract_id, supplier_key
),

lines as (
    select
        spend.ledger_line_id,
        spend.amount,
        spend.matched_contract_id,
        covered.category_id as covered_category_id,
        covered.level3 as covered_category,
        own.level3 as own_category
    from {{ ref('fct_spend') }} as spend
    inner join matched
        on
            spend.matched_contract_id = matched.contract_id
            and spend.supplier_key = matched.supplier_key
    inner join {{ ref('category_tree') }} as covered on matched.category_id = covered.category_id
    inner join {{ ref('category_tree') }} as own on spend.category_id = own.category_id
    where
        spend.spend_class = 'addressable'
        and spend.has_active_contract
        and not spend.contract_covers_category
)

select
{{ dq_rule_output('DQ03', '0.5', 'amount',
    "'contract_id', matched_contract_id, 'covered_category', covered_category,
     'own_category', own_category",
    'null', 'covered_category_id') }}
from lines
