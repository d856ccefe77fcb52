"""The parent interface in English and Spanish, and the plain-language summary of a
progress note composed in the reader's language from the note's derived figures.

Special-education terms are avoided or explained: a "prompt" is "help", an "IEP goal"
is explained where it appears.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal

from server.collect.derive import PROMPTS

LANGUAGES = ("en", "es")

UI: dict[str, dict[str, str]] = {
    "en": {
        "home_title": "Your family's page",
        "children": "Your children",
        "notes": "Progress notes",
        "no_notes": "No progress notes yet. You will get a notification when the teacher shares one.",
        "new": "New",
        "read_note": "Read the note",
        "approved_data": "Recorded at school (approved by the teacher)",
        "no_data": "Nothing approved yet.",
        "messages": "Messages",
        "no_messages": "No messages yet.",
        "open_in_app": "Open messages in the app (works offline)",
        "reply": "Write a reply",
        "send": "Send",
        "settings": "Notification settings",
        "enable_push": "Turn on notifications on this phone",
        "push_help": "We only say that something new is waiting, never details, on your lock screen.",
        "ios_hint": 'On iPhone: first tap Share, then "Add to Home Screen", and open Tandem from there.',
        "mode": "When should we notify you?",
        "mode_immediate": "Right away",
        "mode_daily": "Once a day (a daily summary at 5 pm)",
        "mode_weekly": "Once a week (a weekly summary on Friday at 5 pm)",
        "quiet": "Quiet hours (no notifications between these times)",
        "quiet_from": "From",
        "quiet_to": "To",
        "language": "Language",
        "timezone": "Time zone",
        "save": "Save",
        "saved": "Your settings are saved.",
        "comment": "A personal note from the teacher",
        "summary": "What we practised and how it went",
        "sessions_line": "Based on {n} approved sessions, {first} to {last}.",
        "sessions_line_one": "Based on 1 approved session, on {first}.",
        "sessions_line_day": "Based on {n} approved sessions, on {first}.",
        "goal_explain": 'An "IEP goal" is one of the skills your child\'s education plan (the IEP) says we work on.',
        "back": "Back",
        "from": "From",
        "sent": "Sent",
        "you": "You",
        "read_by_all": "Read",
        "thread": "Conversation",
        "recorded_by": "Recorded by",
        "on": "on",
        "skip_link": "Skip to content",
        "log_out": "Log out",
        "error_400": "Please check your input",
        "error_403": "Not allowed",
        "error_404": "Not found",
        "error_429": "Too many attempts",
        "error_500": "Something went wrong",
        "error_back": "Back to the start page",
    },
    "es": {
        "home_title": "La página de su familia",
        "children": "Sus hijos",
        "notes": "Notas de progreso",
        "no_notes": "Todavía no hay notas de progreso. Recibirá una notificación cuando el maestro comparta una.",
        "new": "Nuevo",
        "read_note": "Leer la nota",
        "approved_data": "Registrado en la escuela (aprobado por el maestro)",
        "no_data": "Todavía no hay nada aprobado.",
        "messages": "Mensajes",
        "no_messages": "Todavía no hay mensajes.",
        "open_in_app": "Abrir los mensajes en la aplicación (funciona sin conexión)",
        "reply": "Escribir una respuesta",
        "send": "Enviar",
        "settings": "Ajustes de notificaciones",
        "enable_push": "Activar las notificaciones en este teléfono",
        "push_help": "En la pantalla de bloqueo solo decimos que hay algo nuevo, nunca detalles.",
        "ios_hint": 'En iPhone: toque Compartir, luego "Agregar a pantalla de inicio", y abra Tandem desde allí.',
        "mode": "¿Cuándo quiere recibir notificaciones?",
        "mode_immediate": "En seguida",
        "mode_daily": "Una vez al día (un resumen diario a las 5 p. m.)",
        "mode_weekly": "Una vez por semana (un resumen el viernes a las 5 p. m.)",
        "quiet": "Horas de silencio (sin notificaciones entre estas horas)",
        "quiet_from": "Desde",
        "quiet_to": "Hasta",
        "language": "Idioma",
        "timezone": "Zona horaria",
        "save": "Guardar",
        "saved": "Sus ajustes se guardaron.",
        "comment": "Un mensaje personal del maestro",
        "summary": "Lo que practicamos y cómo fue",
        "sessions_line": "Basado en {n} sesiones aprobadas, del {first} al {last}.",
        "sessions_line_one": "Basado en 1 sesión aprobada, el {first}.",
        "sessions_line_day": "Basado en {n} sesiones aprobadas, el {first}.",
        "goal_explain": 'Una "meta del IEP" es una de las habilidades que el plan educativo de su hijo (el IEP) dice que trabajamos.',
        "back": "Volver",
        "from": "De",
        "sent": "Enviado",
        "you": "Usted",
        "read_by_all": "Leído",
        "thread": "Conversación",
        "recorded_by": "Registrado por",
        "on": "el",
        "skip_link": "Ir al contenido",
        "log_out": "Cerrar sesión",
        "error_400": "Revise los datos, por favor",
        "error_403": "No permitido",
        "error_404": "No se encontró",
        "error_429": "Demasiados intentos",
        "error_500": "Algo salió mal",
        "error_back": "Volver a la página de inicio",
    },
}

HELP = {
    "en": {
        "independent": "on their own",
        "gestural": "with a pointing or gesture hint",
        "verbal": "with a spoken reminder",
        "model": "after being shown how",
        "partial_physical": "with some hands-on help",
        "full_physical": "with full hands-on help",
    },
    "es": {
        "independent": "por sí mismo/a",
        "gestural": "con una seña o un gesto",
        "verbal": "con un recordatorio hablado",
        "model": "después de ver cómo hacerlo",
        "partial_physical": "con un poco de ayuda física",
        "full_physical": "con ayuda física completa",
    },
}


def ui(language: str) -> dict[str, str]:
    return UI.get(language, UI["en"])


def lang(language: str | None) -> str:
    return language if language in LANGUAGES else "en"


def _join(items: list[str], language: str) -> str:
    """'a', 'a and b', 'a, b and c' (y in Spanish)."""
    word = " and " if language == "en" else " y "
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + word + items[-1]


def help_sentence(by_help: dict[str, int], language: str) -> str | None:
    """Which kind of help the correct answers came with, claiming only what the counts
    show: "most" only for a true majority, "most often" for a lone plurality, and a tie
    named as a tie (in the fixed order of PROMPTS, never a dictionary's order)."""
    counts = [(p, by_help.get(p, 0)) for p in PROMPTS if by_help.get(p, 0) > 0]
    if not counts:
        return None
    total = sum(n for _, n in counts)
    top = max(n for _, n in counts)
    leaders = [HELP[language][p] for p, n in counts if n == top]
    en = language == "en"
    if len(leaders) > 1:
        return (
            f"Successes came as often {_join(leaders, 'en')} ({top} each)."
            if en
            else f"Los aciertos fueron igual de frecuentes {_join(leaders, 'es')} ({top} cada uno)."
        )
    if 2 * top > total:
        return (
            f"Most successes came {leaders[0]} ({top} of {total})."
            if en
            else f"La mayoría de los aciertos fueron {leaders[0]} ({top} de {total})."
        )
    return (
        f"Successes came most often {leaders[0]} ({top} of {total})."
        if en
        else f"Los aciertos fueron más a menudo {leaders[0]} ({top} de {total})."
    )


def direction_sentence(per_session: list[int], direction: str | None, language: str) -> str | None:
    """Whether the count moved the way the goal wants, first session against the latest.
    A goal to decrease (call-outs) reads "fewer" as progress."""
    en = language == "en"
    down = direction == "decrease"
    if len(per_session) < 2:
        if not down:
            return None
        return (
            "The goal is for this number to go down." if en else "La meta es que este número baje."
        )
    first, last = per_session[0], per_session[-1]
    if first == last:
        return (
            f"The same in the first and the latest session ({first})."
            if en
            else f"Igual en la primera y en la última sesión ({first})."
        )
    moved_down = last < first
    good = moved_down == down
    if en:
        move = "Down" if moved_down else "Up"
        aim = "go down" if down else "go up"
        verdict = "which is the goal" if good else f"the goal is for it to {aim}"
        return f"{move} from {first} in the first session to {last} in the latest: {verdict}."
    move = "Bajó" if moved_down else "Subió"
    aim = "baje" if down else "suba"
    verdict = "como se busca" if good else f"la meta es que {aim}"
    return f"{move} de {first} en la primera sesión a {last} en la última: {verdict}."


def _minutes(minutes: float, language: str) -> str:
    """A duration in words a parent reads: seconds under a minute, else minutes in the
    reader's number format ("12.5 minutes", "12,5 minutos")."""
    en = language == "en"
    if minutes < 1:
        seconds = round(minutes * 60)
        return _n(seconds, "second", "seconds") if en else _n(seconds, "segundo", "segundos")
    value = format_decimal(round(minutes, 1), locale=language)
    word = ("minute" if en else "minuto") if minutes == 1 else ("minutes" if en else "minutos")
    return f"{value} {word}"


def _n(count: float, one: str, many: str) -> str:
    """'1 session', '3 sessions' (the count and the word that fits it)."""
    return f"{count:g} {one if count == 1 else many}"


def describe_goal(goal: dict[str, Any], language: str) -> list[str]:
    """Plain sentences for one goal of a note: what was practised, how it went, how
    independently."""
    language = lang(language)
    m = goal["measurement"]
    n = goal.get("sessions", 0)
    en = language == "en"
    lines: list[str] = []
    if m == "trials":
        correct, total = goal.get("correct", 0), goal.get("total", 0)
        alone = goal.get("correct_by_help", {}).get("independent", 0)
        pct = round(100 * correct / total) if total else 0
        lines.append(
            f"Practised {_n(total, 'time', 'times')} in {_n(n, 'session', 'sessions')}: "
            f"{correct} correct ({pct}%)."
            if en
            else f"Practicó {_n(total, 'vez', 'veces')} en {_n(n, 'sesión', 'sesiones')}: "
            f"{_n(correct, 'correcta', 'correctas')} ({pct} %)."
        )
        if correct:
            lines.append(
                f"On their own, with no help: {alone} of the {correct} correct answers."
                if en
                else f"Sin ninguna ayuda: {alone} de las {correct} respuestas correctas."
            )
        sentence = help_sentence(goal.get("correct_by_help", {}), language)
        if sentence:
            lines.append(sentence)
    elif m == "frequency":
        count = goal.get("count", 0)
        what = str(goal.get("measure_name") or "").strip()
        over = _n(n, "session", "sessions") if en else _n(n, "sesión", "sesiones")
        if what:
            lines.append(
                f"{what[:1].upper()}{what[1:]}: {count} in all over {over}."
                if en
                else f"{what[:1].upper()}{what[1:]}: {count} en total en {over}."
            )
        else:
            lines.append(
                f"Counted {_n(count, 'time', 'times')} over {over}."
                if en
                else f"Se contó {_n(count, 'vez', 'veces')} en {over}."
            )
        sentence = direction_sentence(
            goal.get("per_session") or [], goal.get("direction"), language
        )
        if sentence:
            lines.append(sentence)
    elif m == "duration":
        amount = _minutes(goal.get("minutes", 0), language)
        if goal.get("continuous"):
            lines.append(
                f"Longest time without a break: about {amount}."
                if en
                else f"El tiempo más largo sin pausa: unos {amount}."
            )
        else:
            lines.append(
                f"About {amount} in total over {_n(n, 'session', 'sessions')}."
                if en
                else f"Unos {amount} en total en {_n(n, 'sesión', 'sesiones')}."
            )
    elif m == "rating":
        mean, best, scale = goal.get("mean"), goal.get("best"), goal.get("scale") or 5
        if mean is not None:
            lines.append(
                f"Scored {mean} out of {scale} on average (best: {best}), where {scale} is the highest."
                if en
                else f"Obtuvo {mean} de {scale} en promedio (mejor: {best}); {scale} es lo más alto."
            )
    elif m == "task_analysis":
        steps, alone, done = (
            goal.get("steps", 0),
            goal.get("independent_last", 0),
            goal.get("done_last", 0),
        )
        lines.append(
            f"In the latest session: {done} of {steps} steps done, {alone} of them on their own."
            if en
            else f"En la última sesión: {done} de {steps} pasos hechos, {alone} sin ayuda."
        )
    return lines
