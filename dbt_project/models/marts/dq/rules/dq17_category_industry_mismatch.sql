-- DQ17: the line's category (level 1) does not fit the supplier's industry:
-- none of the SNI sections of the supplier's industry codes (SCB's Ng1-Ng5)
-- is plausible for the category by seed category_sni_fit. Judged only when
-- the supplier's main section is known and the category has rows in the seed
-- (so never without register files, nor for Ej påverkbart, Interna köp or
-- Oklassificerat). Info by default: alone it is a hint for the controller;
-- as evidence it raises the rank of a line another rule flags (the combined
-- score of dq_exception_lines: with DQ02's 0.4, 1 - 0.6 x 0.5 = 0.7).
-- Applies to sole traders too: only the SNI section is used.
with fit as (
    select * from {{ ref('category_sni_fit') }}
),

judged_categories as (
    select
        category_level1,
        string_agg(sni_section, ', ' order by sni_section) as expected_sections
    from fit
    group by category_level1
),

register as (
    select * from {{ ref('int_supplier_register_combined') }}
    where sni_section is not null
),

lines as (
    select
        spend.ledger_line_id,
        spend.amount,
        spend.category_level1,
        register.sni_section,
        sections.label_sv as section_sv,
        sections.label_en as section_en,
        judged_categories.expected_sections
    from {{ ref('fct_spend') }} as spend
    inner join register on spend.supplier_key = register.supplier_key
    inner join judged_categories on spend.category_level1 = judged_categories.category_level1
    inner join {{ ref('sni_sections') }} as sections on register.sni_section = sections.sni_section
    where not exists (
        select 1 from fit
        where
            fit.category_level1 = spend.category_level1
            and list_contains(string_split(register.sni_sections, ','), fit.sni_section)
    )
)

select
{{ dq_rule_output('DQ17', '0.5', 'amount',
    "'category', category_level1, 'sni_section', sni_section,
     'section_sv', section_sv, 'section_en', section_en,
     'expected_sections', expected_sections") }}
from lines
