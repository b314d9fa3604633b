{#- A sole trader (a person) shows nothing of the business registers that
    could single them out: of the register only the legal form and the SNI
    section, never the registration date, status, deregistration, postal
    town, size or the five-digit SNI code. -#}
select
    supplier_key,
    supplier_id_status
from {{ ref('dim_supplier') }}
where
    (is_sole_trader or supplier_key like 'PNR-%' or legal_form = 'E')
    and (
        sni_code is not null
        or registration_date is not null
        or register_status is not null
        or deregistration_date is not null
        or deregistration_reason is not null
        or postal_town is not null
        or size_class is not null
        or size_class_label is not null
        or sme_class is not null
    )
