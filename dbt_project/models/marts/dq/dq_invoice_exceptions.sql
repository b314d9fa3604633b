{#- The invoice rule catalogue: one row per line and rule that fired. Each
    rule is one model in rules/ (dqNN_<rule_name>.sql) returning
    ledger_line_id, rule_id, score, amount_at_stake, facts,
    suggested_account, suggested_category_id; seed dq_rules is the catalogue
    (severity, on/off, thresholds, explanation templates in Swedish and
    English filled from the facts). Adding a rule: a model in rules/, a row in
    the seed, a golden fixture pair in tests/fixtures/dq_rules/ (see
    _dq__docs.md).
    Built whole each night: the supplier, account and invoice profiles the
    rules compare with change with every delivery, and a threshold changed
    in the seed takes effect on every line at once. A row that comes out as
    the night before keeps its built_at, so publishing copies only the
    periods whose exceptions changed (publish.py) and the quality tests
    check what changed. -#}
{%- set rule_models = [
    'dq01_account_unmapped', 'dq02_dominant_category_deviation',
    'dq03_contract_category_mismatch', 'dq04_investment_coded_as_operating',
    'dq05_operating_coded_as_investment', 'dq06_public_supplier_external_account',
    'dq07_duplicate_invoice', 'dq08_possible_duplicate', 'dq09_supplier_id_missing',
    'dq10_supplier_id_invalid', 'dq11_foreign_supplier_without_id', 'dq12_vat_rate_unusual',
    'dq13_purchase_after_contract_ended', 'dq14_amount_outlier',
    'dq15_supplier_deregistered_before_posting', 'dq16_new_supplier_first_invoice',
    'dq17_category_industry_mismatch',
] -%}
{%- if execute -%}
    {#- a rule model nobody added here would silently never run -#}
    {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and 'dq_rule' in node.tags
               and node.name not in rule_models -%}
        {{ exceptions.raise_compiler_error("rule model " ~ node.name
            ~ " is not in the rule_models list of dq_invoice_exceptions.sql") }}
    {%- endfor -%}
{%- endif %}
with fired as (
    {%- for rule_model in rule_models %}
        select * from {{ ref(rule_model) }}
        {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
),

rules as (
    -- the seed's severity, unless var spendkoll_dq_severity_overrides sets a rule's
    select * replace ({{ dq_severity_overridden('severity') }} as severity)
    from {{ ref('dq_rules') }}
),

lines as (
    select * from {{ ref('fct_spend') }}
),

batches as (
    select * from {{ ref('stg_loader__batches') }}
),

flagged_lines as (
    select distinct ledger_line_id from fired
),

-- the line's id for the controller: a digest of what the line says, so it
-- is the same night after night and changes when a corrected delivery
-- changes the line (lines that say the same are told apart by their order)
line_content as (
    select
        ledger_line_id,
        batch_id,
        source_line,
        md5(concat_ws(
            '|', source_name, coalesce(verification_id, ''),
            coalesce(cast(line_number as varchar), ''), cast(posting_date as varchar),
            coalesce(invoice_number, ''), coalesce(supplier_key, ''),
            coalesce(cost_centre, ''), account, cast(amount as varchar),
            coalesce(cast(vat as varchar), '')
        )) as content_digest
    from lines
),

line_ids as (
    select
        ledger_line_id,
        'E' || substr(md5(content_digest || '#' || cast(row_number() over (
            partition by content_digest order by batch_id, source_line
        ) as varchar)), 1, 16)
            as exception_id
    from line_content
    where content_digest in (
        select c.content_digest from line_content as c
        inner join flagged_lines as f on c.ledger_line_id = f.ledger_line_id
    )
),

final as (
    select
        line_ids.exception_id,
        lines.ledger_line_id,
        fired.rule_id,
        rules.rule_name,
        rules.severity,
        fired.score,
        fired.amount_at_stake,
        cast(round(fired.score * fired.amount_at_stake, 2) as decimal(18, 2)) as impact,
        lines.period,
        lines.fiscal_year,
        lines.posting_date,
        lines.org_unit_id,
        lines.org_unit_name,
        lines.cost_centre,
        lines.supplier_key,
        lines.supplier_name,
        lines.supplier_id_status,
        lines.verification_id,
        lines.invoice_number,
        lines.account,
        lines.category_id,
        lines.category_level1,
        lines.spend_class,
        lines.amount,
        lines.vat,
        {{ dq_render('rules.explanation_sv', 'fired.facts') }} as explanation_sv,
        {{ dq_render('rules.explanation_en', 'fired.facts') }} as explanation_en,
        fired.suggested_account,
        fired.suggested_category_id,
        lines.source_name,
        batches.file_name as source_file,
        lines.source_line,
        lines.batch_id
    from fired
    inner join lines on fired.ledger_line_id = lines.ledger_line_id
    inner join line_ids on fired.ledger_line_id = line_ids.ledger_line_id
    inner join rules on fired.rule_id = rules.rule_id
    left join batches on lines.batch_id = batches.batch_id
    where rules.enabled
)

{%- set columns = ['exception_id', 'ledger_line_id', 'rule_id', 'rule_name', 'severity', 'score',
    'amount_at_stake', 'impact', 'period', 'fiscal_year', 'posting_date', 'org_unit_id',
    'org_unit_name', 'cost_centre', 'supplier_key', 'supplier_name', 'supplier_id_status',
    'verification_id', 'invoice_number', 'account', 'category_id', 'category_level1',
    'spend_class', 'amount', 'vat', 'explanation_sv', 'explanation_en', 'suggested_account',
    'suggested_category_id', 'source_name', 'source_file', 'source_line', 'batch_id'] %}
{%- set previous = none %}
{%- if execute and not flags.FULL_REFRESH %}
    {%- set relation = adapter.get_relation(database=this.database, schema=this.schema,
                                            identifier=this.identifier) %}
    {%- if relation is not none %}
        {%- set have = adapter.get_columns_in_relation(relation) | map(attribute='name') | list %}
        {%- if (columns + ['built_at']) | sort == have | sort %}
            {%- set previous = relation %}
        {%- endif %}
    {%- endif %}
{%- endif %}
{%- set fields = [] %}
{%- for c in columns %}{% do fields.append(c ~ ' := ALIAS.' ~ c) %}{% endfor %}
{%- set digest = 'md5(cast(struct_pack(' ~ fields | join(', ') ~ ') as varchar))' %}

select
    {%- for c in columns %}
        final.{{ c }},
    {%- endfor %}
    {%- if previous is not none %}
        coalesce(unchanged.built_at, {{ spendkoll_built_at() }}) as built_at
    {%- else %}
        {{ spendkoll_built_at() }} as built_at
    {%- endif %}
from final
{%- if previous is not none %}
left join (
    select exception_id, rule_id, built_at, {{ digest | replace('ALIAS', 'previous_rows') }} as digest
    from {{ previous }} as previous_rows
) as unchanged
    on unchanged.exception_id = final.exception_id
    and unchanged.rule_id = final.rule_id
    and unchanged.digest = {{ digest | replace('ALIAS', 'final') }}
{%- endif %}
