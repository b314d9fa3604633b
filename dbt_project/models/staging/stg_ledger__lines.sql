with source as (
    select * from {{ source('raw', 'ledger_line') }}
),

renamed as (
    select
        batch_id,
        source_name,
        source_line,
        source_name || ':' || cast(batch_id as varchar) || ':' || cast(source_line as varchar)
            as ledger_line_id,
        verification_id,
        line_number,
        posting_date,
        posting_date_derived,
        period,
        invoice_date,
        invoice_number,
        supplier_key,
        supplier_id_status,
        supplier_legal_form,
        supplier_name,
        account,
        account_text,
        cost_centre,
        amount,
        vat,
        description
    from source
)

select * from renamed
