"""``{% flag "name" %}…{% else %}…{% endflag %}``: render by a flag's decision for the
request in the context (needs the ``request`` context processor)."""

from django import template

from rollout.decisions import flag_is_active

register = template.Library()


class FlagNode(template.Node):
    def __init__(self, name: template.base.FilterExpression, on: template.NodeList, off: template.NodeList):
        self.name = name
        self.on = on
        self.off = off

    def render(self, context) -> str:
        request = context.get("request")
        active = request is not None and flag_is_active(request, str(self.name.resolve(context)))
        return (self.on if active else self.off).render(context)


@register.tag("flag")
def flag(parser, token) -> FlagNode:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError('usage: {% flag "name" %}…{% else %}…{% endflag %}')
    name = parser.compile_filter(bits[1])
    on = parser.parse(("else", "endflag"))
    off = template.NodeList()
    if parser.next_token().contents == "else":
        off = parser.parse(("endflag",))
        parser.delete_first_token()
    return FlagNode(name, on, off)
