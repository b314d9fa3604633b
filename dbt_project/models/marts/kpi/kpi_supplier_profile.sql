{#- The supplier profile per fiscal year: shares of addressable spend and of
    suppliers by size, SME, legal form, SNI section and (when var
    spendkoll_local_postal_towns names towns) local suppliers, for the whole
    organisation, per category level 1 and per org unit; the unknown part is
    always a row of its own. Built whole every night: the register is a
    snapshot that changes without the ledger. Definitions: _kpi__docs.md. -#}
{%- set towns = var('spendkoll_local_postal_towns') or [] -%}
{%- if towns is string %}{% set towns = [towns] %}{% endif -%}
{#- the postal towns as SQL literals ('' keeps the list valid when empty) -#}
{%- set town_list = ["''"] -%}
{%- for town in towns %}{% do town_list.append("'" ~ (town | trim | upper | replace("'", "''")) ~ "'") %}{% endfor -%}
{%- set dimensions = ['size', 'sme', 'legal_form', 'sni_section'] + (['local'] if towns else []) -%}
with spend as (
    select * from {{ ref('fct_spend') }}
    where spend_class = 'addressable'
),

suppliers as (
    select * from {{ ref('dim_supplier') }}
),

-- each supplier's net addressable spend per scope; lines without a supplier
-- id are one row (supplier_key null) per scope
per_supplier as (
    select
        fiscal_year,
        'overall' as scope,
        'all' as scope_id,
        'Hela organisationen' as scope_name,
        supplier_key,
        sum(amount) as spend
    from spend
    group by fiscal_year, supplier_key

    union all

    select
        fiscal_year,
        'category_level1' as scope,
        category_level1 as scope_id,
        category_level1 as scope_name,
        supplier_key,
        sum(amount) as spend
    from spend
    group by fiscal_year, category_level1, supplier_key

    union all

    select
        fiscal_year,
        'org_unit' as scope,
        org_unit_id as scope_id,
        max(org_unit_name) as scope_name,
        supplier_key,
        sum(amount) as spend
    from spend
    group by fiscal_year, org_unit_id, supplier_key
),

-- the supplier's value in each dimension ('unknown' when the registers do
-- not tell, for a line without supplier id, and for a sole trader's size
-- and town, which are never shown)
supplier_values as (
    select
        supplier_key,
        coalesce(sme_class, 'unknown') as size_value,
        case
            when sme_class in ('micro', 'small', 'medium') then 'sme'
            else coalesce(sme_class, 'unknown')
        end as sme_value,
        coalesce(legal_form, 'unknown') as legal_form_value,
        coalesce(sni_section, 'unknown') as sni_section_value,
        case
            when postal_town is null then 'unknown'
            when upper(trim(postal_town)) in ({{ town_list | join(', ') }}) then 'local'
            else 'not_local'
        end as local_value
    from suppliers
),

valued as (
    select
        per_supplier.*,
        coalesce(supplier_values.size_value, 'unknown') as size_value,
        coalesce(supplier_values.sme_value, 'unknown') as sme_value,
        coalesce(supplier_values.legal_form_value, 'unknown') as legal_form_value,
        coalesce(supplier_values.sni_section_value, 'unknown') as sni_section_value,
        coalesce(supplier_values.local_value, 'unknown') as local_value
    from per_supplier
    left join supplier_values on per_supplier.supplier_key = supplier_values.supplier_key
),

long as (
    {%- for dimension in dimensions %}
        select
            fiscal_year,
            scope,
            scope_id,
            '{{ dimension }}' as dimension,
            {{ dimension }}_value as value,
            supplier_key,
            spend
        from valued
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

scope_totals as (
    select
        fiscal_year,
        scope,
        scope_id,
        max(scope_name) as scope_name,
        sum(spend) as scope_spend,
        count(case when supplier_key is not null and spend > 0 then 1 end) as scope_suppliers
    from per_supplier
    group by fiscal_year, scope, scope_id
),

grouped as (
    select
        fiscal_year,
        scope,
        scope_id,
        dimension,
        value,
        sum(spend) as spend,
        sum(case when supplier_key is null then spend else 0 end) as spend_without_supplier_id,
        count(case when supplier_key is not null and spend > 0 then 1 end) as suppliers
    from long
    group by fiscal_year, scope, scope_id, dimension, value
),

-- every scope and dimension has its unknown row, also when nothing is unknown
unknown_rows as (
    {%- for dimension in dimensions %}
        select
            fiscal_year,
            scope,
            scope_id,
            '{{ dimension }}' as dimension,
            'unknown' as value
        from scope_totals
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

keys as (
    select
        fiscal_year,
        scope,
        scope_id,
        dimension,
        value
    from grouped
    union
    select * from unknown_rows
),

-- the groups' names: seed supplier_profile_labels (size, sme, local and the
-- unknown rows), legal_forms and sni_sections
value_labels as (
    select
        dimension,
        value,
        label_sv,
        label_en
    from {{ ref('supplier_profile_labels') }}
    union all
    select distinct
        'legal_form' as dimension,
        legal_form as value,
        label_sv,
        label_en
    from {{ ref('legal_forms') }}
    where legal_form is not null
    union all
    select
        'sni_section' as dimension,
        sni_section as value,
        label_sv,
        label_en
    from {{ ref('sni_sections') }}
),

final as (
    select
        keys.fiscal_year,
        keys.scope,
        keys.scope_id,
        scope_totals.scope_name,
        keys.dimension,
        keys.value,
        value_labels.label_sv as value_label_sv,
        value_labels.label_en as value_label_en,
        {{ money('coalesce(grouped.spend, 0)') }} as addressable_spend,
        {{ money('coalesce(grouped.spend_without_supplier_id, 0)') }} as spend_without_supplier_id,
        cast(coalesce(grouped.suppliers, 0) as bigint) as suppliers,
        {{ money('scope_totals.scope_spend') }} as scope_addressable_spend,
        cast(scope_totals.scope_suppliers as bigint) as scope_suppliers,
        {{ pct('coalesce(grouped.spend, 0)', 'scope_totals.scope_spend') }} as spend_share_pct,
        {{ pct('coalesce(grouped.suppliers, 0)', 'scope_totals.scope_suppliers') }}
            as supplier_share_pct
    from keys
    inner join scope_totals
        on
            keys.fiscal_year = scope_totals.fiscal_year
            and keys.scope = scope_totals.scope
            and keys.scope_id = scope_totals.scope_id
    left join grouped
        on
            keys.fiscal_year = grouped.fiscal_year
            and keys.scope = grouped.scope
            and keys.scope_id = grouped.scope_id
            and keys.dimension = grouped.dimension
            and keys.value = grouped.value
    left join value_labels
        on
            keys.dimension = value_labels.dimension
            and keys.value = value_labels.value
)

select * from final
