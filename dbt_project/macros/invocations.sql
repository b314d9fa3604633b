{#- A log of dbt's invocations in the warehouse (ops.dbt_invocation), so that
    `spendkoll publish` can refuse marts whose last build failed or never
    finished, whoever ran dbt (the CLI, the Airflow DAG, dbt by hand). Written
    by the on-run-start and on-run-end hooks of dbt_project.yml; a build that is
    killed stays `running`. -#}

{% macro spendkoll_logged_command() -%}
{{ return(flags.WHICH in ('build', 'run', 'test', 'seed')) }}
{%- endmacro %}

{% macro spendkoll_invocation_started() -%}
{%- if execute and spendkoll_logged_command() -%}
    create schema if not exists ops;
    create table if not exists ops.dbt_invocation (
        invocation_id varchar not null,
        command       varchar not null,
        started_at    timestamp not null,
        finished_at   timestamp,
        status        varchar not null,  -- running | success | failed
        failures      varchar
    );
    insert into ops.dbt_invocation values (
        '{{ invocation_id }}', '{{ flags.WHICH }}', cast(now() as timestamp), null, 'running', null
    );
    {%- else -%}
select 1
{%- endif -%}
{%- endmacro %}

{% macro spendkoll_invocation_finished(results) -%}
{%- if execute and spendkoll_logged_command() -%}
{%- set failures = [] -%}
{%- for r in results -%}
{%- if r.status in ('error', 'fail', 'runtime error') -%}
            {%- do failures.append(r.node.unique_id ~ ' (' ~ r.status ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    update ops.dbt_invocation set
        finished_at = cast(now() as timestamp),
        status = '{{ "failed" if failures else "success" }}',
        failures = {{ "'" ~ (failures | join('; ') | replace("'", "''")) ~ "'" if failures else 'null' }}
    where invocation_id = '{{ invocation_id }}'
    {%- else -%}
select 1
{%- endif -%}
{%- endmacro %}
