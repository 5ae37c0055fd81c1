## A layout to inherit from: <%inherit file="/base.mako"/> in a page template,
## which then defines title() and provides the body.
<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>${self.title()}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
${next.body()}
</body>
</html>
<%def name="title()"></%def>
