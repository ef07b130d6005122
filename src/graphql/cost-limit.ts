import {
  getNamedType,
  getOperationAST,
  GraphQLError,
  isInterfaceType,
  isObjectType,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The variables of a request, as sent (before coercion). */
export type Variables = Readonly<Record<string, unknown>>;

/**
 * An operation's cost: a number, or a function of the request's variables
 * when a page size is given by a variable. Called without variables, the
 * function gives the lowest cost any variables can give (every such page
 * size at 1): a lower bound, known at validation.
 */
export type Cost = number | ((variables?: Variables) => number);

export interface CostLimitOptions {
  /** Largest cost of an operation. */
  readonly maxCost: number;
  /** Largest page size: a larger `first` is counted (as it is served) at this size. */
  readonly maxPageSize: number;
}

/** graphql-armor's weights, as its cost-limit plugin uses them by default. */
const OBJECT_COST = 2;
const SCALAR_COST = 1;
const DEPTH_COST_FACTOR = 1.5;

/** The arguments whose value multiplies the cost of their field's selection. */
const PAGE_ARGUMENTS = new Set(['first', 'last']);

/**
 * The code of a refusal, as yoga gives it to validation errors: the same
 * whether the cost is known at validation or only once the variables are.
 */
const REFUSAL_CODE = 'GRAPHQL_VALIDATION_FAILED';

/** How to lift the limit, in every refusal. */
const SETTING = '--graphql.max-cost (GRAPHQL_MAX_COST)';

function refusalMessage(maxCost: number, cost: number): string {
  return `Query Cost limit of ${maxCost} exceeded, found ${cost}. The limit is ${SETTING}.`;
}

function listRefusalMessage(maxCost: number, info: GraphQLResolveInfo, size: number): string {
  const at = pathOf(info.path).join('.');
  return (
    `Query Cost limit of ${maxCost} exceeded: ${info.parentType.name}.${info.fieldName} at ${at} ` +
    `has ${size} items, and every list counts as many times as it has items. ` +
    `Ask for less (fewer nested lists, smaller pages) or raise ${SETTING}.`
  );
}

/** A response path as its keys, list indices included. */
function pathOf(path: GraphQLResolveInfo['path'] | undefined): (string | number)[] {
  const keys: (string | number)[] = [];
  for (let p = path; p !== undefined; p = p.prev) keys.push(p.key);
  return keys.reverse();
}

/** Fields above a field in its path (list indices are not levels). */
function depthOf(path: GraphQLResolveInfo['path']): number {
  let depth = -1;
  for (let p: GraphQLResolveInfo['path'] | undefined = path; p !== undefined; p = p.prev) {
    if (typeof p.key === 'string') depth += 1;
  }
  return depth;
}

function evaluate(cost: Cost, variables?: Variables): number {
  return typeof cost === 'number' ? cost : cost(variables);
}

/** The sum of costs, a number when every one is. */
function sum(costs: readonly Cost[]): Cost {
  let constant = 0;
  const variable: ((variables?: Variables) => number)[] = [];
  for (const cost of costs) {
    if (typeof cost === 'number') constant += cost;
    else variable.push(cost);
  }
  if (variable.length === 0) return constant;
  return (variables) => {
    let total = constant;
    for (const cost of variable) total += cost(variables);
    return total;
  };
}

/** (own + factor * children) * multiplier, a number when every part is. */
function nodeCost(own: number, children: Cost, multiplier: Cost): Cost {
  if (typeof children === 'number' && typeof multiplier === 'number') {
    return (own + DEPTH_COST_FACTOR * children) * multiplier;
  }
  return (variables) =>
    (own + DEPTH_COST_FACTOR * evaluate(children, variables)) * evaluate(multiplier, variables);
}

/**
 * The cost of one operation of a document, graphql-armor's estimate: 1 per
 * scalar field; 2 per field with a selection, plus 1.5 times its
 * selection's cost, all times its page size (`first` or `last`); a fragment
 * spread 1 plus 1.5 times the fragment's cost (2 plus 1.5 times its
 * selection's); an inline fragment 2 plus 1.5 times its selection's cost;
 * `__schema` nothing. Unlike graphql-armor, which counts only a literal
 * `first`, the page size is the one the query is served with: the literal,
 * or the variable's value, or the argument's default when omitted or null,
 * capped at the largest page and at least 1.
 */
class OperationCostCompiler {
  private readonly fragmentCosts = new Map<string, Cost | null>();
  private readonly variableDefaults = new Map<string, ValueNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly operation: OperationDefinitionNode,
    private readonly maxPageSize: number,
  ) {
    for (const definition of operation.variableDefinitions ?? []) {
      if (definition.defaultValue !== undefined) {
        this.variableDefaults.set(definition.variable.name.value, definition.defaultValue);
      }
    }
  }

  private readonly itemCosts = new WeakMap<FieldNode, Cost>();

  cost(): Cost {
    const root = this.schema.getRootType(this.operation.operation) ?? undefined;
    return sum(this.operation.selectionSet.selections.map((s) => this.selection(s, root)));
  }

  /** The cost of one item of a list field: the field's own cost at a page size of 1. */
  itemCost(node: FieldNode, parent: GraphQLNamedType): Cost {
    const known = this.itemCosts.get(node);
    if (known !== undefined) return known;
    const definition =
      isObjectType(parent) || isInterfaceType(parent)
        ? parent.getFields()[node.name.value]
        : undefined;
    const type = definition === undefined ? undefined : getNamedType(definition.type);
    const cost =
      node.selectionSet === undefined
        ? SCALAR_COST
        : nodeCost(OBJECT_COST, this.selections(node.selectionSet.selections, type), 1);
    this.itemCosts.set(node, cost);
    return cost;
  }

  private selection(node: SelectionNode, parent: GraphQLNamedType | undefined): Cost {
    switch (node.kind) {
      case Kind.FIELD:
        return this.field(node, parent);
      case Kind.INLINE_FRAGMENT: {
        const type =
          node.typeCondition === undefined
            ? parent
            : this.schema.getType(node.typeCondition.name.value);
        return nodeCost(OBJECT_COST, this.selections(node.selectionSet.selections, type), 1);
      }
      case Kind.FRAGMENT_SPREAD:
        return nodeCost(SCALAR_COST, this.fragment(node.name.value), 1);
    }
  }

  private selections(nodes: readonly SelectionNode[], parent: GraphQLNamedType | undefined): Cost {
    return sum(nodes.map((node) => this.selection(node, parent)));
  }

  private fragment(name: string): Cost {
    const known = this.fragmentCosts.get(name);
    if (known !== undefined) return known ?? 0; // null: a cycle (refused by validation anyway)
    const fragment = this.fragments.get(name);
    if (fragment === undefined) return 0;
    this.fragmentCosts.set(name, null);
    const type = this.schema.getType(fragment.typeCondition.name.value);
    const cost = nodeCost(OBJECT_COST, this.selections(fragment.selectionSet.selections, type), 1);
    this.fragmentCosts.set(name, cost);
    return cost;
  }

  private field(node: FieldNode, parent: GraphQLNamedType | undefined): Cost {
    if (node.name.value === '__schema') return 0;
    if (node.selectionSet === undefined) return SCALAR_COST;
    const definition =
      parent !== undefined && (isObjectType(parent) || isInterfaceType(parent))
        ? parent.getFields()[node.name.value]
        : undefined;
    const type = definition === undefined ? undefined : getNamedType(definition.type);
    return nodeCost(
      OBJECT_COST,
      this.selections(node.selectionSet.selections, type),
      this.pageSize(node, definition),
    );
  }

  /** The page size a field is served with, as a multiplier of its selection's cost. */
  private pageSize(node: FieldNode, definition: GraphQLField<unknown, unknown> | undefined): Cost {
    const given = node.arguments?.find((a) => PAGE_ARGUMENTS.has(a.name.value));
    const declared = definition?.args.find((a) =>
      given === undefined ? PAGE_ARGUMENTS.has(a.name) : a.name === given.name.value,
    );
    const fallback = this.clamp(declared?.defaultValue);
    if (given === undefined) return fallback;
    const value = given.value;
    if (value.kind !== Kind.VARIABLE) return this.literal(value, fallback);
    const name = value.name.value;
    const defaultValue = this.variableDefaults.get(name);
    const absent = defaultValue === undefined ? fallback : this.literal(defaultValue, fallback);
    return (variables) => {
      if (variables === undefined) return 1;
      const sent = variables[name];
      if (sent === undefined) return absent;
      if (sent === null) return fallback;
      // Anything but an integer is refused when the variables are coerced.
      return typeof sent === 'number' ? this.clamp(sent) : 1;
    };
  }

  private literal(value: ValueNode, fallback: number): number {
    if (value.kind === Kind.INT) return this.clamp(Number.parseInt(value.value, 10));
    if (value.kind === Kind.NULL) return fallback;
    return 1;
  }

  private clamp(size: unknown): number {
    if (typeof size !== 'number' || !(size > 1)) return 1;
    return Math.min(size, this.maxPageSize);
  }
}

/**
 * The cost limit, with page sizes as they are served: at validation (cached
 * with the document) an operation is refused when its cost is over the limit
 * whatever its variables (counting page sizes given by variables as 1); once
 * the variables are known, before execution, when its cost with them is.
 * Both refusals are the same validation error (GRAPHQL_VALIDATION_FAILED,
 * HTTP 400 for application/graphql-response+json clients).
 */
export class CostLimit {
  private readonly costs = new WeakMap<OperationDefinitionNode, Cost>();
  private readonly compilers = new WeakMap<OperationDefinitionNode, OperationCostCompiler>();
  private readonly budgets = new WeakMap<object, ListBudget>();

  constructor(private readonly options: CostLimitOptions) {}

  /**
   * Starts the accounting of lists by their real size for an execution with
   * this context (see charge).
   */
  beginExecution(context: object): void {
    this.budgets.set(context, { total: undefined, refusal: undefined });
  }

  /** The refusal of an execution whose lists went over the limit, if they did. */
  executionRefusal(context: object): GraphQLError | undefined {
    return this.budgets.get(context)?.refusal;
  }

  /**
   * Counts a list field by its real size, before the resolver builds it. The
   * static cost counted one item of every list without a page size (and a
   * page of `first` items of a paginated one); each such list adds its other
   * items, weighed as the static cost weighs them at that depth, so that
   * nested lists multiply as they are served. Over the limit, it throws the
   * refusal (and every later charge of the execution throws it too): the
   * execution stops building lists, and its result is replaced by the refusal.
   */
  charge(context: unknown, info: GraphQLResolveInfo, size: number): void {
    if (typeof context !== 'object' || context === null) return;
    const budget = this.budgets.get(context);
    if (budget === undefined) return;
    if (budget.refusal !== undefined) throw budget.refusal;
    if (size <= 1) return;
    const variables = info.variableValues;
    const compiler = this.compilerOf(info.schema, info.fragments, info.operation);
    budget.total ??= evaluate(this.costOf(info.schema, info.fragments, info.operation), variables);
    let item = 0;
    for (const node of info.fieldNodes) {
      item += evaluate(compiler.itemCost(node, info.parentType), variables);
    }
    budget.total += (size - 1) * item * DEPTH_COST_FACTOR ** depthOf(info.path);
    if (budget.total > this.options.maxCost) {
      budget.refusal = new GraphQLError(listRefusalMessage(this.options.maxCost, info, size), {
        extensions: { code: REFUSAL_CODE, http: { spec: true, status: 400 } },
      });
      throw budget.refusal;
    }
  }

  /**
   * The cost of the operation a request runs (by name, or the only one),
   * computed once per operation; undefined when there is no such operation.
   */
  operationCost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName?: string | null,
  ): Cost | undefined {
    const operation = getOperationAST(document, operationName);
    return operation === null || operation === undefined
      ? undefined
      : this.costOf(schema, fragmentsOf(document), operation);
  }

  /** Whether an operation of this cost with these variables is within the limit. */
  admits(cost: Cost, variables: Variables): boolean {
    return evaluate(cost, variables) <= this.options.maxCost;
  }

  /** The refusal of an operation of this cost with these variables, if it is over the limit. */
  refusal(cost: Cost, variables: Variables): GraphQLError | undefined {
    const found = evaluate(cost, variables);
    if (found <= this.options.maxCost) return undefined;
    return new GraphQLError(refusalMessage(this.options.maxCost, found), {
      extensions: { code: REFUSAL_CODE, http: { spec: true, status: 400 } },
    });
  }

  /** The validation rule: every operation of the document, its variables at their lowest. */
  rule(): (context: ValidationContext) => ASTVisitor {
    return (context) => ({
      OperationDefinition: (operation: OperationDefinitionNode) => {
        const cost = this.costOf(
          context.getSchema(),
          fragmentsOf(context.getDocument()),
          operation,
        );
        const found = evaluate(cost);
        if (found > this.options.maxCost) {
          // yoga gives it the code and HTTP status of refusal() below.
          context.reportError(new GraphQLError(refusalMessage(this.options.maxCost, found)));
        }
      },
    });
  }

  /** The rule at validation, and the check with the variables before execution. */
  plugin(): Plugin {
    return {
      onValidate: ({ addValidationRule }) => {
        addValidationRule(this.rule());
      },
      onExecute: ({ args, setResultAndStopExecution }) => {
        // envelop types the arguments' graphql parts as any.
        const { schema, document, operationName, variableValues, contextValue } =
          args as ExecutionArgs & { contextValue: object };
        const cost = this.operationCost(schema, document, operationName);
        // A cost without variables was checked at validation.
        if (cost !== undefined && typeof cost !== 'number') {
          const refusal = this.refusal(cost, variableValues ?? {});
          if (refusal !== undefined) {
            setResultAndStopExecution({ errors: [refusal] });
            return undefined;
          }
        }
        this.beginExecution(contextValue);
        return {
          onExecuteDone: ({ setResult }) => {
            // Lists over the limit: the refusal alone, not the part built before it.
            const refusal = this.executionRefusal(contextValue);
            if (refusal !== undefined) setResult({ errors: [refusal] });
          },
        };
      },
    };
  }

  private costOf(
    schema: GraphQLSchema,
    fragments: Fragments,
    operation: OperationDefinitionNode,
  ): Cost {
    const known = this.costs.get(operation);
    if (known !== undefined) return known;
    const cost = this.compilerOf(schema, fragments, operation).cost();
    this.costs.set(operation, cost);
    return cost;
  }

  private compilerOf(
    schema: GraphQLSchema,
    fragments: Fragments,
    operation: OperationDefinitionNode,
  ): OperationCostCompiler {
    let compiler = this.compilers.get(operation);
    if (compiler === undefined) {
      compiler = new OperationCostCompiler(
        schema,
        new Map(Object.entries(fragments)),
        operation,
        this.options.maxPageSize,
      );
      this.compilers.set(operation, compiler);
    }
    return compiler;
  }
}

/** An execution's accounting of lists (see CostLimit.charge). */
interface ListBudget {
  /** The operation's static cost plus the lists' other items; undefined before the first list. */
  total: number | undefined;
  refusal: GraphQLError | undefined;
}

type Fragments = Readonly<Record<string, FragmentDefinitionNode>>;

/** The fragments of a document, by name, as GraphQLResolveInfo has them. */
function fragmentsOf(document: DocumentNode): Fragments {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments[definition.name.value] = definition;
    }
  }
  return fragments;
}
