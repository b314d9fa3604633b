-- DQ11: no valid id and a foreign company form in the name (GmbH, Ltd, ApS ...).
select
    {{ dq_rule_output('DQ11', '0.6', 'amount', "'supplier_name', coalesce(supplier_name, '')") }}
from {{ ref('fct_spend') }}
where
    supplier_id_status in ('missing', 'invalid')
    and coalesce({{ regex_match('supplier_name', dq_foreign_name_pattern()) }}, false)
