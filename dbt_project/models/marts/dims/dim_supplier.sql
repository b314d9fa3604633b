{#- One row per supplier key seen in the ledger or the contract register,
    with what the business registers say of it (int_supplier_register_combined:
    legal form, industry, registration, status, postal town, size). Sole
    traders appear only by pseudonym and masked name, and of the register only
    with their legal form and SNI section. Definitions: _register__docs.md. -#}
with lines as (
    select * from {{ ref('stg_ledger__lines') }}
    where supplier_key is not null
),

contracts as (
    select * from {{ ref('stg_contract_register__contracts') }}
    where supplier_key is not null
),

from_lines as (
    select
        supplier_key,
        max(supplier_name) as supplier_name,
        max(supplier_id_status) as supplier_id_status,
        max(supplier_legal_form) as supplier_legal_form,
        min(posting_date) as first_posting_date,
        max(posting_date) as last_posting_date
    from lines
    group by supplier_key
),

from_contracts as (
    select
        supplier_key,
        max(supplier_name) as supplier_name,
        max(supplier_id_status) as supplier_id_status,
        max(supplier_legal_form) as supplier_legal_form,
        count(distinct contract_id) as contracts
    from contracts
    group by supplier_key
),

register as (
    select * from {{ ref('int_supplier_register_combined') }}
),

legal_forms as (
    select distinct
        legal_form,
        label_sv,
        label_en
    from {{ ref('legal_forms') }}
    where legal_form is not null
),

sections as (
    select * from {{ ref('sni_sections') }}
),

size_classes as (
    select * from {{ ref('size_classes') }}
),

suppliers as (
    select
        coalesce(from_lines.supplier_key, from_contracts.supplier_key) as supplier_key,
        coalesce(from_lines.supplier_name, from_contracts.supplier_name) as supplier_name,
        coalesce(from_lines.supplier_id_status, from_contracts.supplier_id_status)
            as supplier_id_status,
        coalesce(from_lines.supplier_legal_form, from_contracts.supplier_legal_form)
            as supplier_legal_form,
        coalesce(from_lines.supplier_legal_form, from_contracts.supplier_legal_form) = 'public'
            as is_public_sector,
        coalesce(from_lines.supplier_id_status, from_contracts.supplier_id_status)
        in ('sole_trader', 'sole_trader_masked') as is_sole_trader,
        from_lines.first_posting_date,
        from_lines.last_posting_date,
        cast(coalesce(from_contracts.contracts, 0) as bigint) as contracts_in_register
    from from_lines
    full outer join from_contracts
        on from_lines.supplier_key = from_contracts.supplier_key
),

-- a person (sole trader, estate) by the ledger's id or the register: of
-- the register only the legal form and the SNI section
withheld as (
    select
        suppliers.*,
        register.supplier_key is not null as in_register,
        suppliers.is_sole_trader or coalesce(register.is_person, false) as is_person
    from suppliers
    left join register on suppliers.supplier_key = register.supplier_key
),

final as (
    select
        withheld.* exclude (is_person),
        register.legal_form,
        legal_forms.label_sv as legal_form_label,
        legal_forms.label_en as legal_form_label_en,
        case when not withheld.is_person then register.sni_code end as sni_code,
        register.sni_section,
        sections.label_sv as sni_section_label,
        sections.label_en as sni_section_label_en,
        case when not withheld.is_person then register.registration_date end
            as registration_date,
        case
            when not withheld.is_person then coalesce(register.register_status, 'unknown')
        end as register_status,
        case when not withheld.is_person then register.deregistration_date end
            as deregistration_date,
        case when not withheld.is_person then register.deregistration_reason end
            as deregistration_reason,
        case when not withheld.is_person then register.postal_town end as postal_town,
        case when not withheld.is_person then register.size_class end as size_class,
        case when not withheld.is_person then size_classes.label_sv end as size_class_label,
        case
            when not withheld.is_person then coalesce(size_classes.sme_class, 'unknown')
        end as sme_class
    from withheld
    left join register on withheld.supplier_key = register.supplier_key
    left join legal_forms on register.legal_form = legal_forms.legal_form
    left join sections on register.sni_section = sections.sni_section
    left join size_classes on register.size_class = size_classes.size_class
)

select * from final
