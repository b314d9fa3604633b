with source as (
    select * from {{ source('raw', 'contract') }}
),

renamed as (
    select
        batch_id,
        source_line,
        contract_id,
        supplier_key,
        supplier_id_status,
        supplier_legal_form,
        supplier_name,
        title,
        category as contract_category,
        start_date,
        end_date,
        latest_end_date,
        contract_type,
        procured_by,
        registered_date,
        estimated_annual_value
    from source
)

select * from renamed
