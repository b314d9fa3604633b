{#- Per fiscal year, supplier and category (leaf): addressable spend without a
    contract covering the category, beside the direct procurement threshold of
    the fiscal year: in a year where it changed (2014, 2022) the lower of the
    two, whatever the lines' dates, and threshold_changed_in_year is true.
    A risk flag, not proof: see _kpi__docs.md. -#}
with spend as (
    select * from {{ ref('fct_spend') }}
    where
        spend_class = 'addressable'
        and supplier_key is not null
),

thresholds as (
    select * from {{ ref('direct_procurement_thresholds') }}
),

suppliers as (
    select * from {{ ref('dim_supplier') }}
),

-- the thresholds in force on some day of each fiscal year
year_thresholds as (
    select
        years.fiscal_year,
        min(thresholds.threshold_sek) as threshold_sek,
        max(thresholds.threshold_sek) as highest_threshold_sek
    from (select distinct fiscal_year from spend) as years
    inner join thresholds
        on
            thresholds.valid_from <= make_date(years.fiscal_year, 12, 31)
            and thresholds.valid_to >= make_date(years.fiscal_year, 1, 1)
    group by years.fiscal_year
),

uncontracted as (
    select
        spend.fiscal_year,
        spend.supplier_key,
        spend.category_id,
        spend.category_level1,
        spend.category_level2,
        spend.category_level3,
        spend.posting_date,
        spend.invoice_number,
        spend.amount
    from spend
    where not spend.contract_covers_category
),

addressable as (
    select
        fiscal_year,
        supplier_key,
        category_id,
        sum(amount) as addressable_spend
    from spend
    group by fiscal_year, supplier_key, category_id
),

grouped as (
    select
        fiscal_year,
        supplier_key,
        category_id,
        category_level1,
        category_level2,
        category_level3,
        sum(amount) as uncontracted_spend,
        count(*) as uncontracted_lines,
        count(distinct invoice_number) as uncontracted_invoices,
        min(posting_date) as first_posting_date,
        max(posting_date) as last_posting_date
    from uncontracted
    group by
        fiscal_year, supplier_key, category_id, category_level1, category_level2,
        category_level3
),

final as (
    select
        grouped.fiscal_year,
        grouped.supplier_key,
        suppliers.supplier_name,
        suppliers.supplier_id_status,
        suppliers.is_sole_trader,
        grouped.category_id,
        grouped.category_level1,
        grouped.category_level2,
        grouped.category_level3,
        {{ money('addressable.addressable_spend') }} as addressable_spend,
        {{ money('grouped.uncontracted_spend') }} as uncontracted_spend,
        grouped.uncontracted_lines,
        grouped.uncontracted_invoices,
        grouped.first_posting_date,
        grouped.last_posting_date,
        {{ money('year_thresholds.threshold_sek') }} as threshold_sek,
        coalesce(year_thresholds.highest_threshold_sek <> year_thresholds.threshold_sek, false)
            as threshold_changed_in_year,
        coalesce(grouped.uncontracted_spend > year_thresholds.threshold_sek, false)
            as is_above_threshold
    from grouped
    inner join addressable
        on
            grouped.fiscal_year = addressable.fiscal_year
            and grouped.supplier_key = addressable.supplier_key
            and grouped.category_id = addressable.category_id
    left join year_thresholds
        on grouped.fiscal_year = year_thresholds.fiscal_year
    left join suppliers
        on grouped.supplier_key = suppliers.supplier_key
)

select * from final
