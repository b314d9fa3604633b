with source as (
    select * from {{ source('raw', 'register_size_class') }}
),

renamed as (
    select
        batch_id,
        source_line,
        supplier_key,
        size_class
    from source
)

select * from renamed
