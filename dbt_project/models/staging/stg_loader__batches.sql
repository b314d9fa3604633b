with source as (
    select * from {{ source('raw', 'load_batch') }}
),

renamed as (
    select
        batch_id,
        source_name,
        kind,
        file_name,
        sha256,
        rows_in,
        rows_loaded,
        rows_quarantined,
        rows_flagged,
        amount_loaded,
        status,
        started_at,
        finished_at,
        column_map
    from source
)

select * from renamed
