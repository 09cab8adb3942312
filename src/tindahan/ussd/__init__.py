"""USSD for feature phones (issue 24): the menus a person walks with ``*143#``-style sessions.

Domain code: no framework, no database. ``menu.route`` reads the inputs typed so far (the
aggregator's ``text``, split on ``*``) and says where the person is: a fixed prompt, a
refusal of bad input, or a *stage* the service must look something up for or act on.
``codes`` draws and checks the short merchant and agent codes typed on a keypad; ``catalog``
says everything in English, Filipino or Cebuano and fits it into one 182-character screen.
"""
