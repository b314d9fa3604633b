{#- How each supplier is coded: one row per supplier, account and category
    with the supplier's totals beside it. The profile the supplier rules
    (DQ02, DQ04, DQ05) compare a line with. -#}
with lines as (
    select
        supplier_key,
        account,
        category_id,
        spend_class
    from {{ ref('fct_spend') }}
    where supplier_key is not null
),

usage as (
    select
        supplier_key,
        account,
        category_id,
        spend_class,
        count(*) as account_lines
    from lines
    group by supplier_key, account, category_id, spend_class
),

supplier as (
    select
        supplier_key,
        sum(account_lines) as supplier_lines,
        sum(case when spend_class = 'investment' then account_lines else 0 end) as investment_lines
    from usage
    group by supplier_key
),

categories as (
    select
        supplier_key,
        category_id,
        sum(account_lines) as category_lines
    from usage
    group by supplier_key, category_id
),

dominant as (
    select
        supplier_key,
        category_id,
        category_lines,
        row_number() over (partition by supplier_key order by category_lines desc, category_id asc)
            as category_rank
    from categories
),

ranked_accounts as (
    select
        usage.*,
        row_number() over (
            partition by
                usage.supplier_key, case when usage.spend_class = 'investment' then 1 else 0 end
            order by usage.account_lines desc, usage.account asc
        ) as rank_in_class,
        row_number()
            over (
                partition by usage.supplier_key, usage.category_id
                order by usage.account_lines desc, usage.account asc
            )
            as rank_in_category
    from usage
),

final as (
    select
        usage.supplier_key,
        usage.account,
        usage.category_id,
        usage.spend_class,
        usage.account_lines,
        categories.category_lines,
        supplier.supplier_lines,
        1.0 * supplier.investment_lines / supplier.supplier_lines as investment_share,
        dominant.category_id as dominant_category_id,
        1.0 * dominant.category_lines / supplier.supplier_lines as dominant_share,
        dominant_account.account as dominant_account,
        top_investment.account as top_investment_account,
        top_investment.category_id as top_investment_category_id,
        top_operating.account as top_operating_account,
        top_operating.category_id as top_operating_category_id
    from usage
    inner join supplier on usage.supplier_key = supplier.supplier_key
    inner join categories
        on
            usage.supplier_key = categories.supplier_key
            and usage.category_id = categories.category_id
    inner join dominant
        on usage.supplier_key = dominant.supplier_key and dominant.category_rank = 1
    left join ranked_accounts as dominant_account
        on
            usage.supplier_key = dominant_account.supplier_key
            and dominant.category_id = dominant_account.category_id
            and dominant_account.rank_in_category = 1
    left join ranked_accounts as top_investment
        on
            usage.supplier_key = top_investment.supplier_key
            and top_investment.spend_class = 'investment' and top_investment.rank_in_class = 1
    left join ranked_accounts as top_operating
        on
            usage.supplier_key = top_operating.supplier_key
            and top_operating.spend_class <> 'investment' and top_operating.rank_in_class = 1
)

select * from final
