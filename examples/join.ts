// Joins and an aggregation by key over two small datasets made here: customers and their orders.
//
//   bin/flint submit --master flint://127.0.0.1:7077 examples/join.ts
//
// Both datasets are keyed by customer id. `join` (inner) pairs every order with its customer and drops the
// order whose customer is unknown; `aggregateByKey` counts and sums each customer's orders; `leftOuterJoin`
// of the customers with those totals keeps the customer who ordered nothing (her totals are `undefined`).
// Each result is sorted on the cluster (`sortBy` order id, `sortByKey`) before it is collected and printed.

import { FlintContext, runApp } from 'flint';

export interface Customer {
  readonly name: string;
  readonly city: string;
}

export interface Order {
  readonly id: number;
  readonly customer: number;
  readonly item: string;
  /** In cents, so that sums stay exact. */
  readonly cents: number;
}

/** [order count, cents spent] */
export type Totals = [number, number];

const CUSTOMERS: Array<[number, Customer]> = [
  [1, { name: 'Ada', city: 'London' }],
  [2, { name: 'Grace', city: 'New York' }],
  [3, { name: 'Edsger', city: 'Amsterdam' }],
  [4, { name: 'Barbara', city: 'Boston' }],
  [5, { name: 'Margaret', city: 'Boston' }],
];

const ORDERS: Order[] = [
  { id: 1001, customer: 1, item: 'tea', cents: 1250 },
  { id: 1002, customer: 2, item: 'compiler', cents: 9900 },
  { id: 1003, customer: 1, item: 'engine', cents: 120000 },
  { id: 1004, customer: 3, item: 'semaphore', cents: 450 },
  { id: 1005, customer: 5, item: 'rope', cents: 2999 },
  { id: 1006, customer: 2, item: 'moth', cents: 5 },
  { id: 1007, customer: 9, item: 'mystery', cents: 100 },
  { id: 1008, customer: 3, item: 'pen', cents: 199 },
  { id: 1009, customer: 1, item: 'punch cards', cents: 800 },
];

export function byCustomer(order: Order): number {
  return order.customer;
}

export function addOrder([count, cents]: Totals, order: Order): Totals {
  return [count + 1, cents + order.cents];
}

export function addTotals(a: Totals, b: Totals): Totals {
  return [a[0] + b[0], a[1] + b[1]];
}

export function byOrderId([, [order]]: [number, [Order, Customer]]): number {
  return order.id;
}

export function noCustomer([, [, customer]]: [number, [Order, Customer | undefined]]): boolean {
  return customer === undefined;
}

function money(cents: number): string {
  return (cents / 100).toFixed(2).padStart(8);
}

runApp(async () => {
  const flint = await FlintContext.create({ appName: 'Flint Join' });
  try {
    const customers = flint.parallelize(CUSTOMERS, 2);
    const orders = flint.parallelize(ORDERS, 3).keyBy(byCustomer);

    console.log('Orders with their customer (join):');
    for (const [id, [order, customer]] of await orders.join(customers).sortBy(byOrderId).collect()) {
      console.log(`  ${order.id}  customer ${id} ${customer.name.padEnd(9)} ${order.item.padEnd(12)} ${money(order.cents)}`);
    }

    console.log('Customers and their orders (aggregateByKey, then leftOuterJoin):');
    const totals = orders.aggregateByKey<number, Order, Totals>([0, 0], addOrder, addTotals);
    for (const [id, [customer, spent]] of await customers.leftOuterJoin(totals).sortByKey().collect()) {
      const line = spent === undefined ? 'no orders' : `${spent[0]} order${spent[0] === 1 ? ' ' : 's'} ${money(spent[1])}`;
      console.log(`  customer ${id} ${customer.name.padEnd(9)} ${customer.city.padEnd(10)} ${line}`);
    }

    const unknown = await orders.leftOuterJoin(customers).filter(noCustomer).collect();
    const described = unknown.map(([id, [order]]) => `${order.id} of customer ${id}`).join(', ');
    console.log(`Orders whose customer is unknown (left out by the join): ${unknown.length}: ${described}`);
  } finally {
    await flint.stop();
  }
});
