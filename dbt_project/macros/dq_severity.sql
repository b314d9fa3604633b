{# A rule's severity: the seed dq_rules' column, unless var
   spendkoll_dq_severity_overrides ({"DQ15": "warning", ...}) sets the rule's
   (blocking, warning or info). #}
{% macro dq_severity_overridden(column) %}
{%- set o = var('spendkoll_dq_severity_overrides') %}
{%- if o is mapping and o %}case rule_id
{%- for r in o %} when '{{ r }}' then '{{ o[r] }}'{% endfor %} else {{ column }} end
{%- else %}{{ column }}{% endif %}
{%- endmacro %}
