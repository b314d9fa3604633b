with source as (
    select * from {{ source('raw', 'register_bolagsverket') }}
),

renamed as (
    select
        batch_id,
        source_line,
        supplier_key,
        upper(identity_type) as identity_type,
        name_protection_no,
        upper(nullif(trim(legal_form), '')) as legal_form_code,
        registration_date,
        deregistration_date,
        upper(nullif(trim(deregistration_reason), '')) as deregistration_reason_code,
        nullif(trim(procedures), '') as procedures,
        nullif(trim(postal_town), '') as postal_town
    from source
)

select * from renamed
