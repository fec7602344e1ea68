// Templating (shell-quoted by default) and CEL conditions: the public surface of src/template.
export { renderCommand, renderText, templateReferences, analyzeTemplate, commandContextProblems, TemplateError } from './render.js';
export type { RenderOptions, TemplateReference, TemplateAnalysis } from './render.js';
export { checkExpression, inspectExpression, evaluateExpression, evaluateCondition, describeExpression, ExpressionError } from './expression.js';
export type { HostView, ExpressionContext, ExpressionRefs } from './expression.js';
