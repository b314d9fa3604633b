{#- The invoice rule catalogue: helpers of the rule models in
    models/marts/dq/rules/. How to add a rule: _dq__docs.md. -#}

{#- A rule's threshold from seed dq_rules (column `thresholds`,
    `name=value;name=value`), as a number. A threshold the seed does not have
    stops the build with the rule and the name instead of silently switching
    the rule off. -#}
{% macro dq_threshold(rule_id, name) -%}
    coalesce(
        (select cast(nullif(regexp_extract(r.thresholds,
                    '(^|;)\s*{{ name }}\s*=\s*([^;]*)', 2), '') as double)
         from {{ ref('dq_rules') }} as r where r.rule_id = '{{ rule_id }}'),
        error('seed dq_rules: rule {{ rule_id }} has no threshold {{ name }} (thresholds column, name=value;...)')
    )
{%- endmacro %}

{#- The columns every rule model returns, in this order. -#}
{% macro dq_rule_output(rule_id, score, amount_at_stake, facts,
                        suggested_account='null', suggested_category_id='null') -%}
    ledger_line_id,
    '{{ rule_id }}' as rule_id,
    cast(least(1.0, greatest(0.0, {{ score }})) as double) as score,
    cast(abs({{ amount_at_stake }}) as decimal(18, 2)) as amount_at_stake,
    cast(json_object({{ facts }}) as varchar) as facts,
    cast({{ suggested_account }} as varchar) as suggested_account,
    cast({{ suggested_category_id }} as varchar) as suggested_category_id
{%- endmacro %}

{#- Fill a template of seed dq_rules ("... {name} ...") from a rule's facts
    (a JSON object of text values). -#}
{% macro dq_render(template, facts) -%}
    list_reduce(
        json_keys(cast({{ facts }} as json)),
        (acc, k) -> replace(acc, '{' || k || '}', coalesce(json_extract_string(cast({{ facts }} as json), k), '')),
        {{ template }}
    )
{%- endmacro %}

{#- An amount as text for an explanation: 1234.5 -> '1234.50'. -#}
{% macro dq_text(expr) -%}
    cast({{ expr }} as varchar)
{%- endmacro %}

{#- A company form that marks a foreign supplier's name: a word of its own
    ("NORRLANDS GLAS AB" is not an AS). -#}
{% macro dq_foreign_name_pattern() -%}
    {{ return('(^|[^A-Za-z])(GmbH|Ltd|Limited|Inc|LLC|A/S|ApS|Oy|Oyj|AG|BV|'
              ~ 'B\\.V\\.|S\\.A\\.|SRL|NV|AS)([^A-Za-z]|$)') }}
{%- endmacro %}

{#- Join a line of fct_spend (aliased `spend`) to its supplier's profile row
    in int_dq_supplier_usage (aliased `usage`): the supplier's totals beside
    how often it is coded to this line's account and category. -#}
{% macro dq_join_supplier_usage() -%}
    inner join {{ ref('int_dq_supplier_usage') }} as usage
        on usage.supplier_key = spend.supplier_key
        and usage.account = spend.account
        and usage.category_id = spend.category_id
        and usage.spend_class = spend.spend_class
{%- endmacro %}
