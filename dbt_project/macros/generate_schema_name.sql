{#- Models go to the schema named in dbt_project.yml (staging, marts, ...),
    not "<target schema>_<name>": BI tools read `marts.fct_spend`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
