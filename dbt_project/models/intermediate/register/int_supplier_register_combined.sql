{#- One row per supplier key of the ledger or the contract register that a
    business register holds: Bolagsverket's registration, SCB's legal unit
    and the size class combined. For a sole trader (a person) everything but
    the legal form and the SNI sections is null here already, so nothing
    downstream can show it. Definitions: _register__docs.md. -#}
with suppliers as (
    select supplier_key from {{ ref('stg_ledger__lines') }}
    where supplier_key is not null
    union
    select supplier_key from {{ ref('stg_contract_register__contracts') }}
    where supplier_key is not null
),

-- one registration per identity: the active one, then the lowest
-- namnskyddslopnummer (none counts as 0), then the latest delivery and line
registrations as (
    select
        registrations.*,
        row_number() over (
            partition by registrations.supplier_key
            order by
                case when registrations.deregistration_date is null then 0 else 1 end,
                coalesce(registrations.name_protection_no, 0),
                registrations.batch_id desc,
                registrations.source_line asc
        ) as registration_rank,
        count(*) over (partition by registrations.supplier_key) as registrations
    from {{ ref('stg_bolagsverket__registrations') }} as registrations
    where registrations.supplier_key in (select suppliers.supplier_key from suppliers)
),

bolagsverket as (
    select * from registrations
    where registration_rank = 1
),

-- one SCB unit and one size class per supplier: the latest delivery, first line
scb as (
    select units.*
    from {{ ref('stg_scb__legal_units') }} as units
    where units.supplier_key in (select suppliers.supplier_key from suppliers)
    qualify row_number() over (
        partition by units.supplier_key
        order by units.batch_id desc, units.source_line asc
    ) = 1
),

size_classes as (
    select sizes.*
    from {{ ref('stg_scb__size_classes') }} as sizes
    where sizes.supplier_key in (select suppliers.supplier_key from suppliers)
    qualify row_number() over (
        partition by sizes.supplier_key
        order by sizes.batch_id desc, sizes.source_line asc
    ) = 1
),

-- the procedures of the chosen registration, one row per entry 'CODE:date'
procedure_entries as (
    select
        supplier_key,
        trim(unnest(string_split(procedures, '|'))) as entry
    from bolagsverket
    where procedures is not null
),

procedure_dates as (
    select
        supplier_key,
        upper(trim(split_part(entry, ':', 1))) as code,
        try_cast(trim(split_part(entry, ':', 2)) as date) as on_date
    from procedure_entries
    where entry <> ''
),

-- each start of a winding-up procedure (KK bankruptcy, LI liquidation, FR
-- reconstruction) and the first end entry on or after it (a longer code with
-- the same first letters, e.g. KKAVOV, LIUHOR; one without a date ends it too)
procedure_starts as (
    select
        started.supplier_key,
        started.code,
        started.on_date as started_on,
        min(ended.on_date) as ended_on,
        count(ended.code) > 0 as has_ended
    from procedure_dates as started
    left join procedure_dates as ended
        on
            started.supplier_key = ended.supplier_key
            and length(ended.code) > 2
            and left(ended.code, 2) = started.code
            and (ended.on_date is null or started.on_date is null or started.on_date <= ended.on_date)
    where started.code in ('KK', 'LI', 'FR')
    group by started.supplier_key, started.code, started.on_date
),

-- the latest start of each procedure decides
winding_up_procedures as (
    select
        supplier_key,
        code,
        arg_max(started_on, coalesce(started_on, date '1900-01-01')) as started_on,
        arg_max(ended_on, coalesce(started_on, date '1900-01-01')) as ended_on,
        arg_max(has_ended, coalesce(started_on, date '1900-01-01')) as has_ended
    from procedure_starts
    group by supplier_key, code
),

procedure_status as (
    select
        supplier_key,
        bool_or(not has_ended) as winding_up,
        max(case when code = 'KK' then started_on end) as bankruptcy_started_on,
        max(case when code = 'KK' then ended_on end) as bankruptcy_ended_on,
        bool_or(code = 'KK' and has_ended) as bankruptcy_ended
    from winding_up_procedures
    group by supplier_key
),

-- every industry code of the unit (Ng1 the main one), with its SNI 2007
-- section by the code's first two digits (its division)
industry_codes as (
    select
        supplier_key,
        code_rank,
        sni_code,
        case
            when regexp_matches(sni_code, '^[0-9]{2}') then cast(left(sni_code, 2) as integer)
        end as division
    from (
        select
            supplier_key,
            1 as code_rank,
            sni_1 as sni_code
        from scb
        union all
        select
            supplier_key,
            2,
            sni_2
        from scb
        union all
        select
            supplier_key,
            3,
            sni_3
        from scb
        union all
        select
            supplier_key,
            4,
            sni_4
        from scb
        union all
        select
            supplier_key,
            5,
            sni_5
        from scb
    )
    where sni_code is not null
),

industry_sections as (
    select
        industry_codes.supplier_key,
        industry_codes.code_rank,
        industry_codes.sni_code,
        sections.sni_section
    from industry_codes
    left join {{ ref('sni_sections') }} as sections
        on industry_codes.division between sections.division_from and sections.division_to
),

industries as (
    select
        supplier_key,
        max(case when code_rank = 1 then sni_code end) as sni_code,
        max(case when code_rank = 1 then sni_section end) as sni_section,
        string_agg(distinct sni_section, ',' order by sni_section) as sni_sections
    from industry_sections
    group by supplier_key
),

legal_forms as (
    select * from {{ ref('legal_forms') }}
),

combined as (
    select
        suppliers.supplier_key,
        bolagsverket.supplier_key is not null as in_bolagsverket,
        scb.supplier_key is not null as in_scb,
        coalesce(
            suppliers.supplier_key like 'PNR-%'
            or bolagsverket.identity_type in ('PERSON', 'SAMORDNR', 'DODSBO')
            or bolagsverket.legal_form_code = 'E'
            or scb.is_sole_trader
            or scb.legal_form_code in ('10', '91'),
            false
        ) as is_person,
        bolagsverket.registrations as bolagsverket_registrations,
        bolagsverket.name_protection_no,
        bolagsverket.legal_form_code as bolagsverket_legal_form_code,
        scb.legal_form_code as scb_legal_form_code,
        coalesce(bv_form.legal_form, scb_form.legal_form) as legal_form,
        case
            when bv_form.legal_form is not null then 'bolagsverket'
            when scb_form.legal_form is not null then 'scb'
        end as legal_form_source,
        industries.sni_code,
        industries.sni_section,
        industries.sni_sections,
        coalesce(bolagsverket.registration_date, scb.registered_date) as registration_date,
        case
            when bolagsverket.registration_date is not null then 'bolagsverket'
            when scb.registered_date is not null then 'scb'
        end as registration_date_source,
        case
            when bolagsverket.supplier_key is null then 'unknown'
            when bolagsverket.deregistration_date is not null then 'deregistered'
            when coalesce(procedure_status.winding_up, false) then 'winding_up'
            else 'active'
        end as register_status,
        bolagsverket.deregistration_date,
        bolagsverket.deregistration_reason_code,
        case
            when bolagsverket.deregistration_date is null then null
            when bolagsverket.deregistration_reason_code = 'KKAV' then 'bankruptcy'
            when bolagsverket.deregistration_reason_code = 'LIAV' then 'liquidation'
            when bolagsverket.deregistration_reason_code = 'FUAV' then 'merger'
            else 'other'
        end as deregistration_reason,
        coalesce(procedure_status.winding_up, false) as winding_up,
        procedure_status.bankruptcy_started_on,
        procedure_status.bankruptcy_ended_on,
        coalesce(procedure_status.bankruptcy_ended, false) as bankruptcy_ended,
        upper(coalesce(bolagsverket.postal_town, scb.postal_town)) as postal_town,
        size_classes.size_class,
        scb.company_status,
        scb.unit_status
    from suppliers
    left join bolagsverket on suppliers.supplier_key = bolagsverket.supplier_key
    left join scb on suppliers.supplier_key = scb.supplier_key
    left join size_classes on suppliers.supplier_key = size_classes.supplier_key
    left join procedure_status on suppliers.supplier_key = procedure_status.supplier_key
    left join industries on suppliers.supplier_key = industries.supplier_key
    left join legal_forms as bv_form
        on
            bv_form.register = 'bolagsverket'
            and bolagsverket.legal_form_code = bv_form.code
    left join legal_forms as scb_form
        on
            scb_form.register = 'scb'
            and scb.legal_form_code = scb_form.code
    where
        bolagsverket.supplier_key is not null
        or scb.supplier_key is not null
        or size_classes.supplier_key is not null
),

-- a person (sole trader, estate): only the legal form and the SNI sections
final as (
    select
        supplier_key,
        in_bolagsverket,
        in_scb,
        is_person,
        legal_form,
        legal_form_source,
        bolagsverket_legal_form_code,
        scb_legal_form_code,
        case when not is_person then sni_code end as sni_code,
        sni_section,
        sni_sections,
        case when not is_person then registration_date end as registration_date,
        case when not is_person then registration_date_source end as registration_date_source,
        case when not is_person then register_status end as register_status,
        case when not is_person then deregistration_date end as deregistration_date,
        case when not is_person then deregistration_reason_code end as deregistration_reason_code,
        case when not is_person then deregistration_reason end as deregistration_reason,
        case when not is_person then winding_up end as winding_up,
        case when not is_person then bankruptcy_started_on end as bankruptcy_started_on,
        case when not is_person then bankruptcy_ended_on end as bankruptcy_ended_on,
        case when not is_person then bankruptcy_ended end as bankruptcy_ended,
        case when not is_person then postal_town end as postal_town,
        case when not is_person then size_class end as size_class,
        case when not is_person then company_status end as company_status,
        case when not is_person then unit_status end as unit_status,
        case when not is_person then bolagsverket_registrations end as bolagsverket_registrations,
        case when not is_person then name_protection_no end as name_protection_no
    from combined
)

select * from final
