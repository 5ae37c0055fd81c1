<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Pylons Execution Analysis, from a live run</title>
<meta name="generator" content="pylon-trace ${version | h}">
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
         padding: 0 1rem; color: #222; }
  code, pre { font: 13px/1.4 ui-monospace, monospace; }
  pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; }
  table { border-collapse: collapse; margin: 1rem 0; }
  th, td { border: 1px solid #ddd; padding: .25rem .5rem; vertical-align: top; }
  th { background: #f0f0f0; }
  figure.diagram { overflow-x: auto; margin: 1rem 0; border: 1px solid #eee; }
  figure.diagram svg { max-width: none; height: auto; }
</style>
</head>
<body>
${body}
</body>
</html>
