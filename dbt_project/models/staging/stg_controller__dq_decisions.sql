with source as (
    select * from {{ source('raw', 'dq_decision') }}
),

renamed as (
    select
        batch_id,
        source_name,
        source_file,
        source_line,
        exception_id,
        decision,
        decision_as_written,
        comment,
        initials,
        decided_on,
        decided_on_given,
        loaded_at
    from source
)

select * from renamed
