with contracts as (
    select * from {{ ref('stg_contract_register__contracts') }}
),

classes as (
    select distinct
        contract_id,
        supplier_key,
        procured_by_class
    from {{ ref('int_contract_categories') }}
),

final as (
    select
        contracts.contract_id
        || ':'
        || coalesce(contracts.supplier_key, '-') as contract_supplier_id,
        contracts.contract_id,
        contracts.supplier_key,
        contracts.supplier_name,
        contracts.title,
        contracts.contract_category,
        contracts.contract_type,
        contracts.start_date,
        contracts.end_date,
        contracts.latest_end_date,
        contracts.registered_date,
        coalesce(contracts.registered_date > contracts.start_date, false)
            as registered_after_start,
        contracts.procured_by,
        classes.procured_by_class,
        contracts.estimated_annual_value
    from contracts
    left join classes
        on
            contracts.contract_id = classes.contract_id
            and classes.supplier_key is not distinct from contracts.supplier_key
)

select * from final
