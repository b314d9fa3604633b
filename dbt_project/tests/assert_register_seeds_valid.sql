{#- The register seeds agree with each other and with the category tree:
    legal_forms has one row per register and code, one label per legal form;
    sni_sections' division ranges do not overlap; size_classes' sme_class is
    one of the documented classes; category_sni_fit names sections of
    sni_sections (its categories: assert_category_sni_fit_matches_tree). -#}
with legal_forms as (
    select * from {{ ref('legal_forms') }}
),

sections as (
    select * from {{ ref('sni_sections') }}
),

problems as (
    select
        'legal_forms: register is not bolagsverket or scb' as problem,
        code as item
    from legal_forms
    where register not in ('bolagsverket', 'scb')
    union all
    select
        'legal_forms: code twice in one register',
        register || ' ' || code
    from legal_forms
    group by register, code
    having count(*) > 1
    union all
    select
        'legal_forms: legal form with two labels',
        legal_form
    from legal_forms
    where legal_form is not null
    group by legal_form
    having count(distinct coalesce(label_sv, '') || '|' || coalesce(label_en, '')) > 1
    union all
    select
        'sni_sections: overlapping division ranges',
        a.sni_section || '/' || b.sni_section
    from sections as a
    inner join sections as b
        on
            a.sni_section < b.sni_section
            and a.division_from <= b.division_to
            and a.division_to >= b.division_from
    union all
    select
        'size_classes: unknown sme_class',
        cast(size_class as varchar)
    from {{ ref('size_classes') }}
    where sme_class not in ('micro', 'small', 'medium', 'medium_or_large', 'large', 'unknown')
    union all
    select
        'category_sni_fit: not an SNI section',
        fit.sni_section
    from {{ ref('category_sni_fit') }} as fit
    where fit.sni_section not in (select sections.sni_section from sections)
)

select * from problems
