with source as (
    select * from {{ source('raw', 'ecommerce_order') }}
),

renamed as (
    select
        order_id,
        order_date,
        period,
        supplier_key,
        supplier_id_status,
        cost_centre,
        amount,
        from_catalogue,
        invoice_number
    from source
)

select * from renamed
