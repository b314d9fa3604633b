{#- Contract-register values spendkoll does not recognise: one row per contract
    row and column whose category or procured-by text matches nothing in the
    accepted vocabulary (int_contract_vocabulary). Such a contract still counts
    for supplier loyalty but covers no category, or is not the procurement
    unit's: the controller fixes the register or adds the organisation's word
    to seed contract_vocabulary. -#}
with vocabulary as (
    select * from {{ ref('int_contract_vocabulary') }}
),

batches as (
    select * from {{ ref('stg_loader__batches') }}
),

categories as (
    select * from {{ ref('category_tree') }}
),

mapping as (
    select * from {{ ref('contract_vocabulary') }}
),

accepted as (
    select
        'category ids: ' || (
            select string_agg(distinct category_id, ', ' order by category_id)
            from categories
        )
        || '; level names: ' || (
            select string_agg(distinct name, ', ' order by name) from (
                select level1 as name from categories
                union
                select level2 from categories
                union
                select level3 from categories
            )
        )
        || coalesce('; mapped in seed contract_vocabulary: ' || (
            select string_agg(distinct source_value, ', ' order by source_value)
            from mapping
            where field_name = 'category'
        ), '')
            as category_values,
        'procurement unit: ' || coalesce((
            select string_agg(distinct source_value, ', ' order by source_value)
            from mapping
            where field_name = 'procured_by' and maps_to = 'procurement_unit'
        ), '')
        {%- for u in var("spendkoll_procurement_units") %}
            || ', {{ u | replace("'", "''") }}'
        {%- endfor %}
        || '; business: ' || coalesce((
            select string_agg(distinct source_value, ', ' order by source_value)
            from mapping
            where field_name = 'procured_by' and maps_to = 'business'
        ), '')
            as procured_by_values
),

unmatched as (
    select
        batch_id,
        source_line,
        contract_id,
        'category' as field_name,
        contract_category as value
    from vocabulary
    where not category_matched
    union all
    select
        batch_id,
        source_line,
        contract_id,
        'procured_by' as field_name,
        procured_by as value
    from vocabulary
    where not procured_by_matched
),

final as (
    select
        cast(unmatched.batch_id as varchar) || ':' || cast(unmatched.source_line as varchar)
        || ':' || unmatched.field_name as contract_exception_id,
        unmatched.batch_id,
        batches.file_name,
        unmatched.source_line as line,
        -- the file's own header for the field, as the source config maps it
        coalesce(
            json_extract_string(batches.column_map, '$.' || unmatched.field_name),
            unmatched.field_name
        ) as column_name,
        unmatched.field_name,
        unmatched.value,
        unmatched.contract_id,
        case unmatched.field_name
            when 'category' then accepted.category_values
            else accepted.procured_by_values
        end as accepted_values,
        case unmatched.field_name
            when 'category'
                then
                    'Kategorin ''' || unmatched.value || ''' finns inte i '
                    || 'kategoriträdet: avtalet täcker ingen kategori (avtalstrohet). Rätta '
                    || 'avtalskatalogen eller lägg till ordet i contract_vocabulary.'
            else
                'Upphandlat av ''' || unmatched.value || ''' är okänt: avtalet räknas inte '
                || 'som upphandlingsenhetens. Rätta avtalskatalogen eller lägg till värdet i '
                || 'contract_vocabulary.'
        end as explanation_sv,
        case unmatched.field_name
            when 'category'
                then
                    'Category ''' || unmatched.value || ''' is not in the '
                    || 'category tree: the contract covers no category (contract compliance). '
                    || 'Fix the register or add the word to contract_vocabulary.'
            else
                'Procured by ''' || unmatched.value || ''' is unknown: the contract does not '
                || 'count as the procurement unit''s. Fix the register or add the value to '
                || 'contract_vocabulary.'
        end as explanation_en
    from unmatched
    cross join accepted
    left join batches
        on unmatched.batch_id = batches.batch_id
)

select * from final
