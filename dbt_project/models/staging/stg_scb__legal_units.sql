with source as (
    select * from {{ source('raw', 'register_scb') }}
),

renamed as (
    select
        batch_id,
        source_line,
        supplier_key,
        is_sole_trader,
        nullif(trim(legal_form_code), '') as legal_form_code,
        nullif(trim(company_status), '') as company_status,
        nullif(trim(unit_status), '') as unit_status,
        nullif(trim(sni_1), '') as sni_1,
        nullif(trim(sni_2), '') as sni_2,
        nullif(trim(sni_3), '') as sni_3,
        nullif(trim(sni_4), '') as sni_4,
        nullif(trim(sni_5), '') as sni_5,
        nullif(trim(postal_town), '') as postal_town,
        registered_date
    from source
)

select * from renamed
