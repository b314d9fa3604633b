"""The controller's report in Swedish and English: one template, these words."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Avtalscontrollerns rapport: avvikande fakturarader",
        "engineer_title": "Validering och regelutfall (för datateknikern)",
        "month": "Månad", "generated": "Skapad", "other_lang": "In English",
        "other_lang_file": "index.en.html", "validation_file": "validation.html",
        "index_file": "index.html", "other_validation_file": "validation.en.html",
        "back": "Tillbaka till avtalscontrollerns rapport",
        "files": "Filer", "xlsx_note": "listan till redovisningen, med beslutskolumner",
        "csv_note": "alla flaggade rader per regel",
        "validation_line": "Validering: {checks} kontroller, {blocking} blockerande fel, "
                           "{warnings} varningar — se",
        "no_validation": "Validering: ingen körning registrerad ännu — se",
        "ignored": "Inte inlästa: {files}. Filnamnet matchar inget mönster för källan: byt "
                   "namn på filen eller rätta pattern i källfilen.",
        "since": "sedan",
        # a
        "act": "Att åtgärda i månaden, per enhet",
        "act_lead": "{on_list} rader på listan till redovisningen i {month}, {stake} kr i fråga, "
                    "av {flagged} flaggade rader i månaden. Övriga {rest} flaggade rader står "
                    "inte på listan men finns i marts.dq_accounting_list (on_list = false). "
                    "Alla månader: {on_list_all} rader på listan (exceptions.xlsx) av "
                    "{flagged_all} flaggade.",
        "act_empty": "Inga rader på listan till redovisningen.",
        "unit": "Enhet", "rule": "Regel", "all": "alla", "shown": "visas",
        "rows_of": "{shown} av {total} rader visas",
        "unit_head": "{on_list} på listan, {stake} kr i fråga; {more} till flaggade i enheten",
        "rank": "#", "supplier": "Leverantör", "invoice": "Faktura / verifikation",
        "account": "Konto", "amount": "Belopp, kr", "explanation": "Förklaring",
        "suggestion": "Förslag", "stake": "I fråga, kr", "score": "Poäng", "status": "Status",
        "rules": "Regler", "suggest_account": "konto", "suggest_category": "kategori",
        # b
        "decisions": "Tidigare beslut och tid till lösning",
        "status_counts": "Undantag per status",
        "count": "Antal", "median_days": "Mediantid till lösning: {days} dagar "
                                          "({n} lösta undantag).",
        "no_resolved": "Inget undantag har lösts ännu.",
        "precision": "Precision per regel",
        "precision_lead": "Bedömd precision = (bekräftade + rättade) / beslutade, som "
                          "avtalscontrollern och redovisningen har bedömt dem. Mätt precision = "
                          "mot de planterade felen i demodata (spendkoll dq-eval).",
        "decided": "Beslutade", "confirmed_n": "Bekräftade", "corrected_n": "Rättade",
        "dismissed_n": "Falsklarm", "precision_judged": "Bedömd precision",
        "precision_planted": "Mätt precision (planterade fel)",
        "median_rule": "Mediantid till lösning, dagar",
        "no_eval": "Ingen mätning mot planterade fel ({path} finns inte; skriv den med "
                   "spendkoll dq-eval --json {path}).",
        "eval_from": "Mätt precision från {path}.",
        "oldest": "Äldsta bekräftade som inte är rättade",
        "no_oldest": "Inga bekräftade undantag väntar på rättelse.",
        "decided_on": "Beslutat", "days_open": "Dagar sedan beslut", "comment": "Kommentar",
        "decided_by": "Signatur", "period": "Period",
        "status_new": "ny", "status_open": "öppen", "status_confirmed": "bekräftad",
        "status_dismissed": "falsklarm", "status_resolved": "rättad",
        # c
        "trends": "Trender per regel och per enhet",
        "trend_total": "Flaggade rader och rader på listan per månad",
        "flagged": "Flaggade rader", "on_list": "På listan",
        "per_rule": "Per regel (flaggade rader per månad)",
        "per_unit": "Per enhet (flaggade rader per månad)",
        "months": "{first} – {last}", "last_month": "Senaste månaden",
        "change": "Mot månaden före", "trend": "Trend",
        # short sections after the controller's
        "contracts": "Avtalskatalogen: värden som inte känns igen",
        "contracts_lead": "{n} värden i avtalskatalogen känns inte igen: avtalet räknas för "
                          "leverantörstrohet men täcker ingen kategori, eller räknas inte som "
                          "upphandlingsenhetens. Rätta avtalskatalogen eller lägg till ordet i "
                          "seed contract_vocabulary. Hela listan:",
        "contracts_ok": "Alla värden i avtalskatalogen känns igen.",
        "file": "Fil", "line": "Rad", "column": "Kolumn", "value": "Värde",
        "contract": "Avtal", "accepted": "godkända värden",
        "deliveries": "Leveranser mot föregående",
        "deliveries_lead": "Varje leverans av huvudboken mot den den ersatte (annars källans "
                           "föregående): rader, belopp, leverantörer och andel per spendklass. "
                           "En leverans som skulle ta bort eller ändra mer än källans "
                           "max_change_share hålls tillbaka tills den bekräftas.",
        "no_deliveries": "Inga leveranser ännu.",
        "d_source": "källa", "d_file": "fil", "d_lines": "rader", "d_amount": "belopp, kr",
        "d_suppliers": "leverantörer", "d_addressable": "påverkbar %",
        "d_unclassified": "oklassificerat %", "d_previous": "föregående",
        "d_lines_delta": "rader ±", "d_amount_delta": "belopp ±",
        "d_suppliers_delta": "leverantörer ±", "d_prev_addressable": "föreg. påverkbar %",
        # engineer page
        "validation": "Validering (Great Expectations, senaste körningen per steg)",
        "validation_lead": "{failed} av {total} förväntningar uppfylls inte. Blockerande fel "
                           "stoppar publiceringen; varningar rapporteras.",
        "gx_docs": "GX Data Docs",
        "ok": "OK", "fail": "FEL", "severity": "allvarlighet", "stage": "steg",
        "suite": "svit", "target": "mål", "expectation": "förväntan", "rows": "rader",
        "observed": "observerat", "examples": "exempel",
        "by_rule": "Alla flaggade rader per regel", "by_unit": "Alla flaggade rader per enhet",
        "name": "namn", "lines": "rader",
    },
    "en": {
        "title": "Contract controller's report: invoice exceptions",
        "engineer_title": "Validation and rule totals (for the data engineer)",
        "month": "Month", "generated": "Generated", "other_lang": "På svenska",
        "other_lang_file": "index.html", "validation_file": "validation.en.html",
        "index_file": "index.en.html", "other_validation_file": "validation.html",
        "back": "Back to the contract controller's report",
        "files": "Files", "xlsx_note": "the list to accounting, with decision columns",
        "csv_note": "every flagged line per rule",
        "validation_line": "Validation: {checks} checks, {blocking} blocking failures, "
                           "{warnings} warnings — see",
        "no_validation": "Validation: no run recorded yet — see",
        "ignored": "Not loaded: {files}. The file name matches no pattern of the source: "
                   "rename the file or correct pattern in the sources file.",
        "since": "since",
        "act": "What to act on this month, per org unit",
        "act_lead": "{on_list} lines on the list to accounting in {month}, SEK {stake} at "
                    "stake, of {flagged} lines flagged in the month. The other {rest} flagged "
                    "lines are not on the list but stay queryable in marts.dq_accounting_list "
                    "(on_list = false). All months: {on_list_all} lines on the list "
                    "(exceptions.xlsx) of {flagged_all} flagged.",
        "act_empty": "Nothing on the list to accounting.",
        "unit": "Org unit", "rule": "Rule", "all": "all", "shown": "shown",
        "rows_of": "{shown} of {total} rows shown",
        "unit_head": "{on_list} on the list, SEK {stake} at stake; {more} more flagged in the unit",
        "rank": "#", "supplier": "Supplier", "invoice": "Invoice / voucher",
        "account": "Account", "amount": "Amount, SEK", "explanation": "Explanation",
        "suggestion": "Suggestion", "stake": "At stake, SEK", "score": "Score",
        "status": "Status", "rules": "Rules", "suggest_account": "account",
        "suggest_category": "category",
        "decisions": "Earlier decisions and time to resolution",
        "status_counts": "Exceptions per status",
        "count": "Count", "median_days": "Median time to resolution: {days} days "
                                          "({n} resolved exceptions).",
        "no_resolved": "No exception has been resolved yet.",
        "precision": "Precision per rule",
        "precision_lead": "Judged precision = (confirmed + corrected) / decided, as the "
                          "controller and accounting judged them. Measured precision = against "
                          "the planted errors of the demo data (spendkoll dq-eval).",
        "decided": "Decided", "confirmed_n": "Confirmed", "corrected_n": "Corrected",
        "dismissed_n": "Dismissed", "precision_judged": "Judged precision",
        "precision_planted": "Measured precision (planted errors)",
        "median_rule": "Median days to resolution",
        "no_eval": "No measurement against planted errors ({path} does not exist; write it "
                   "with spendkoll dq-eval --json {path}).",
        "eval_from": "Measured precision from {path}.",
        "oldest": "Oldest confirmed exceptions not yet corrected",
        "no_oldest": "No confirmed exception is waiting for a correction.",
        "decided_on": "Decided", "days_open": "Days since the decision", "comment": "Comment",
        "decided_by": "Initials", "period": "Period",
        "status_new": "new", "status_open": "open", "status_confirmed": "confirmed",
        "status_dismissed": "dismissed", "status_resolved": "resolved",
        "trends": "Trends per rule and per org unit",
        "trend_total": "Flagged lines and lines on the list per month",
        "flagged": "Flagged lines", "on_list": "On the list",
        "per_rule": "Per rule (flagged lines per month)",
        "per_unit": "Per org unit (flagged lines per month)",
        "months": "{first} – {last}", "last_month": "Latest month",
        "change": "Against the month before", "trend": "Trend",
        "contracts": "Contract register: values not recognised",
        "contracts_lead": "{n} values in the contract register are not recognised: the "
                          "contract counts for supplier loyalty but covers no category, or "
                          "does not count as the procurement unit's. Correct the register or "
                          "add the word to seed contract_vocabulary. The whole list:",
        "contracts_ok": "Every value in the contract register is recognised.",
        "file": "File", "line": "Line", "column": "Column", "value": "Value",
        "contract": "Contract", "accepted": "accepted values",
        "deliveries": "Deliveries against the one before",
        "deliveries_lead": "Every ledger delivery against the one it replaced (else the "
                           "source's previous one): lines, amount, suppliers and share per "
                           "spend class. A delivery removing or changing more than the "
                           "source's max_change_share is held until confirmed.",
        "no_deliveries": "No deliveries yet.",
        "d_source": "source", "d_file": "file", "d_lines": "lines", "d_amount": "amount, SEK",
        "d_suppliers": "suppliers", "d_addressable": "addressable %",
        "d_unclassified": "unclassified %", "d_previous": "previous",
        "d_lines_delta": "lines ±", "d_amount_delta": "amount ±",
        "d_suppliers_delta": "suppliers ±", "d_prev_addressable": "prev. addressable %",
        "validation": "Validation (Great Expectations, the latest run per stage)",
        "validation_lead": "{failed} of {total} expectations not met. Blocking failures stop "
                           "the publication; warnings are reported.",
        "gx_docs": "GX Data Docs",
        "ok": "OK", "fail": "FAIL", "severity": "severity", "stage": "stage",
        "suite": "suite", "target": "target", "expectation": "expectation", "rows": "rows",
        "observed": "observed", "examples": "examples",
        "by_rule": "All flagged lines per rule", "by_unit": "All flagged lines per org unit",
        "name": "name", "lines": "lines",
    },
}
